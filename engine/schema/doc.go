// Package schema holds topic schemas (SPEC 1, 2, 4.1, 6): the Arrow type
// names used in config and the admin API, the {name, type, nullable} field
// model, which Arrow types can be stored in Parquet, the stored-row schema
// with its system columns, and the Matcher that checks incoming record
// batches against a topic and reshapes them without copying column data.
//
// # Type names
//
// ParseType reads, and FormatType writes, this grammar (whitespace between
// tokens is ignored):
//
//	null bool int8 int16 int32 int64 uint8 uint16 uint32 uint64
//	float16 float32 float64
//	utf8 (alias string) large_utf8 (alias large_string) binary large_binary
//	utf8_view (alias string_view) binary_view
//	date32 date64 time32[s|ms] time64[us|ns]
//	timestamp[s|ms|us|ns] timestamp[ms, tz=UTC] timestamp[ns, tz="America/New_York"]
//	duration[s|ms|us|ns] interval[month] interval[day_time] interval[month_day_nano]
//	decimal32(p, s) decimal64(p, s) decimal128(p, s) (alias decimal(p, s)) decimal256(p, s)
//	    (precision 1..9, 1..18, 1..38, 1..76; 0 <= scale <= precision; scale defaults to 0)
//	fixed_size_binary[n]
//	list<T> large_list<T> list_view<T> large_list_view<T> fixed_size_list<T>[n]
//	map<K, V> map<K, V, keys_sorted>
//	struct<name: T, name2: T2 not null, "odd name": T3>
//	dictionary<values=T, indices=I> dictionary<values=T, indices=I, ordered>
//	    (I an integer type, default int32)
//	run_end_encoded<run_ends=I, values=T> (I int16, int32 or int64)
//	dense_union<a: T, b: T2> sparse_union<a: T = 5, b: T2 = 7>
//	    (type codes 0..127, default the member's position)
//
// Children (list items, map values, struct and union members, run-end
// encoded values) are nullable unless followed by "not null"; map keys are
// never null. Struct and union member names are bare runs of letters,
// digits and _ - . $, or quoted "..." with Go string escapes. A time zone is
// bare or quoted the same way. Names are at most MaxTypeNameLen bytes and
// MaxTypeDepth levels deep. List items are named "item" and map entries
// "entries"/"key"/"value"; names of list items and map entries are not part
// of the grammar and Matcher ignores them.
//
// # Storage
//
// CheckStorable refuses types that arrow-go's pqarrow cannot write to
// Parquet and read back as the same type; the set was found by experiment
// and is re-checked by TestStorableTypesRoundTrip. Stored gives the schema of
// stored rows: the NumSystemColumns system columns, then the payload.
//
// # Concurrency
//
// Everything here is safe for concurrent use: the functions are pure, and a
// Matcher guards its plan cache with a sync.RWMutex (held only around map
// access, never while planning or touching data) plus an atomic pointer to
// the last plan used.
//
// # Imports
//
// The package imports only the standard library, arrow-go (arrow, array,
// memory), go.yaml.in/yaml/v3 for Field decoding, and ducktail/base. Its
// tests also import arrow-go's ipc and parquet/pqarrow.
package schema
