// Package segment writes and reads ducktail's immutable Parquet segments.
//
// Format: one zstd-compressed Parquet file per flush, written with arrow-go's
// pqarrow (chosen by the benchmark in bench/parquet; see its RESULTS.md). The
// columns are the system columns (see SystemFields: _id int64, _ts
// timestamp(ms, UTC-adjusted), _event utf8, _sub utf8, _tenant uint32) and
// then the payload fields, in row groups of WriterOptions.RowGroupRows rows
// with min/max statistics on every column. _id and _ts are
// DELTA_BINARY_PACKED (half the file size of PLAIN here, and faster); other
// columns use pqarrow's dictionary-then-plain encoding, with top-level utf8
// columns dictionary-encoded by Write itself (see dict.go for why). The
// Arrow schema is stored in the file's key-value metadata ("ARROW:schema"),
// so every Arrow type round-trips; stock DuckDB reads the files with
// read_parquet and sees _ts as TIMESTAMP WITH TIME ZONE.
//
// Invariants the reader relies on, checked by Write: _id is dense and
// increasing (the row at position p of a row group holds id firstID+p) and
// _ts is non-decreasing, so a range read needs no scan: row groups are chosen
// by their statistics, rows inside a group by arithmetic and binary search.
//
// Concurrency: Write has no shared state. A Reader is safe for concurrent use
// (its methods serialise on a mutex).
//
// Imports: arrow-go (arrow, parquet, pqarrow), base and the standard library.
package segment
