// Package engine owns streams: their catalog, the order of their events, the
// write-ahead log, the in-memory buffers of unflushed rows and the flush of
// those buffers into Parquet segments under a manifest.
//
// # Write path
//
// An append is decoded and validated against the stream's schema before any
// lock is taken. Then, under the stream's mutex, it is given its ids and
// timestamp and its WAL record is appended; ids therefore follow log order.
// The mutex is released and the caller waits for the WAL to make the record
// durable (group commit) before it acknowledges. A batch becomes visible to
// readers and to the flusher only once it is durable, so nothing a reader sees
// can vanish in a crash.
//
// # Flush
//
// A background loop flushes a stream's durable batches when they reach
// Options.Flush limits (rows, bytes, age), under memory pressure and at Close:
// segment written and committed, then the manifest committed, then the batches
// dropped from memory in one step under the stream's mutex, so a reader sees
// every row exactly once. WAL files are removed only when every record in
// them is covered by a committed manifest.
//
// # Locks
//
// Lock order: Engine.mu, then Stream.flushMu, then Stream.mu, then the WAL's
// own mutex. No lock is held while waiting for the WAL or doing storage I/O,
// except Stream.flushMu, which serialises flushes of one stream.
//
// The package may import base, engine/..., and storage/...; never server or
// query.
package engine
