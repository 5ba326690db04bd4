// Package sqlengine runs read-only DuckDB SQL over ducktail streams (SPEC 4.4).
//
// Each stream is the view "{account}"."{stream}": the union of its Parquet
// segments (read with read_parquet, union_by_name) and its unflushed tail.
// The tail lives in one DuckDB table per stream, "_tail"."{account}.{stream}",
// brought up to date lazily by Query with only the record batches newer than
// the table already holds; rows that have moved into segments are deleted
// from it. Batches are copied in through duckdb-go's Arrow.RegisterView, used
// only as the source of "INSERT INTO t SELECT * FROM v" on a freshly
// registered view that is dropped before its stream is released (SPEC 8: any
// other use of such a view reads wrong data or crashes).
//
// Security: after set-up the database allows file access only below
// Options.DataDir (allowed_directories), disables every other external access
// (enable_external_access=false) and locks its configuration. A user
// statement must be a single SELECT-like statement (SELECT, WITH, FROM,
// VALUES, TABLE, DESCRIBE, SHOW, SUMMARIZE, show-style PRAGMAs) or EXPLAIN;
// it runs in a READ ONLY transaction on a pooled connection that internal
// statements never use. DataDir must hold segments only: anything below it,
// such as key files, is readable from SQL.
//
// Build tag: the Arrow interface of duckdb-go exists only when the binary is
// built with -tags duckdb_arrow. Without it, Open and Query return an error
// saying so and the package's DuckDB tests are skipped.
//
// Concurrency: an Engine is safe for concurrent use. Query serializes the
// update of the views (Engine.mu, held while the internal connection runs one
// transaction) and then runs the user's statement concurrently with other
// queries on its own connection. Every query sees a committed, complete state
// of each view: never a file list without the matching tail deletion. Lock
// order: Engine.mu, then DuckDB's own locks.
//
// Imports: the standard library, arrow-go, duckdb-go and ducktail/base.
package sqlengine
