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
// Flush workers (Options.FlushWorkers) turn a stream's durable batches into
// segments when they reach Options.Flush limits (rows, bytes, age), under
// memory pressure and at Close. Each job claims the next batches, writes and
// commits its segment, then waits for its turn (jobs commit in claim order),
// commits the manifest and drops the batches from memory in one step under
// the stream's mutex, so a reader sees every row exactly once. Jobs on one
// stream therefore write in parallel and commit in order. WAL files are
// removed only when every record in them is covered by a committed manifest.
//
// # Locks
//
// Lock order: Engine.mu, then Stream.flushRW, then Stream.mu, then the WAL's
// own mutex. No mutex is held while waiting for the WAL or doing storage I/O;
// flush jobs hold Stream.flushRW shared, and Flush and Close hold it
// exclusively to flush alone.
//
// The package may import base, engine/..., and storage/...; never server or
// query.
package engine
