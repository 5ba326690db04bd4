// Package wal is ducktail's write-ahead log: the record framing, the group
// committing writer (Log), file rotation and removal, and crash recovery
// (Replay). A write is acknowledged only after Log.Wait says its record is
// durable (SPEC 3).
//
// # Files
//
// The log is a sequence of files "{Dir}/{number:020d}.wal", numbered from 1
// upwards. Open never appends to an existing log file: it starts a new file
// numbered after the highest existing one, so a file that may end in a torn
// write is never written again. A file is rotated once it reaches
// Options.FileSize; rotation cuts the old file at its last record, syncs
// it, makes the new one and fsyncs the directory before any record goes
// into the new file.
//
// Syncs are fdatasync(2), and the writer arranges for its writes to
// overwrite blocks already on disk, which such a sync commits without the
// journal (free.go has the measurements): RemoveBefore keeps up to two
// retired files as free files "{number:020d}.wal.free", which the next
// rotations rename into new log files and overwrite from the start; and in
// a new file the writer keeps 1 MiB of zeros written ahead of its records
// (Sync mode, rounds of small records). A log file can therefore hold, past
// its last record, zeros or the records of the file it was before: Replay
// takes either for the file's end. Close cuts the active file at its last
// record.
//
// # Record format
//
// A file is a sequence of records, each starting at an offset that is a
// multiple of 8:
//
//	+---------+---------+-------------+-----------------+-------------+
//	| crc  u32| len  u32| file   u64  | payload (len B) | zero pad    |
//	+---------+---------+-------------+-----------------+-------------+
//	 0         4         8             16                16+len .. 8-aligned
//
// All integers are little-endian. crc is CRC-32C (Castagnoli) over bytes
// 4..16 of the header followed by the payload. file is the number of the file
// the record was written to: data left over from another file (a renamed or
// recycled file) fails the check. File numbers start at 1, so an all-zero
// header is never valid. len is at most MaxRecordSize. A Pos is the offset
// just past a record's padding.
//
// # Recovery
//
// Replay reads the files in number order. A record that is short, has a bad
// length, a foreign file number or a bad CRC ends its file when no valid
// record follows it at any 8-byte-aligned offset (a torn or zeroed tail: the
// normal result of a crash, not an error; with repair it is truncated away).
// When a valid record does follow it, the file is corrupt and Replay returns
// an error wrapping base.ErrCorrupt that names the file and the offset.
//
// # Concurrency
//
// A *Log is safe for concurrent use. Append copies the framed record into a
// pending buffer under Log.mu and signals the single writer goroutine, which
// swaps the pending buffer for a spare one (double buffering, so Append does
// not allocate in steady state), writes it, syncs once for the whole round
// (Sync mode), advances the durable position and wakes every waiter at once
// by closing the round's channel. Appends made while a round is being written
// and synced go out in the next round (group commit, as pebble's
// record.LogWriter). In Sync mode, after rounds of several records, the
// writer waits up to 1.5 fsyncs' time (at most 2 ms) for as many records as
// the recent rounds held before it starts a round, so that appenders woken
// by one round join the next one instead of the one after (gather.go; a
// lone appender never waits). A write or sync error is sticky: the Log is failed and
// every later Append and Wait returns it.
//
// Only one Log may be open on a Dir at a time (there is no lock file: the
// engine owns the data dir), and Replay must not run on files a live Log is
// writing. The engine replays (with repair) first, then opens.
//
// Lock order: Log.mu before Log.smu. Log.rmMu (RemoveBefore) is never held
// together with the others, except that it may take Log.smu briefly.
// Functions whose name ends in Locked require the lock named in their doc.
//
// # Imports
//
// The package imports only the standard library, base and storage/vfs.
// Metrics are injected as an Observer (a prometheus.Histogram is one).
package wal
