// Command fill writes events straight into a ducktail data dir through the
// engine package, for the range-read benchmark of `make bench`
// (bench/run.sh): building a stream of 10,000,000 events over HTTP would
// take far longer than the benchmark itself.
//
//	fill -data DIR -stream bench/r100k=100000 -stream bench/r10m=10000000
//
// Each -stream NAME=N makes NAME an event stream (Pipet-style, untyped) of
// exactly N events: small application/json objects of about -size bytes,
// appended in groups of -group events with durability buffered, so that
// the data dir ends up as a server would have written it (WAL records,
// then Parquet segments under a manifest, flushed by the engine's own
// flusher and by Close). A stream that already holds N events is left
// alone, so a data dir can be reused between runs; one holding more is an
// error. Appends the engine refuses as over capacity (its memory budget,
// while the flusher catches up) are retried after the delay it asks for.
//
// It prints one line per stream with the events written and the rate.
// The package has no package-level mutable state.
package main
