// Package manifest keeps a stream's list of segments.
//
// Format: each version is one JSON object
// {"version": N, "stream": "...", "segments": [{"key", "first_id", "last_id",
// "min_ts", "max_ts", "rows", "bytes", "crc32c"}, ...]} stored at
// {stream prefix}_manifest/{N:020d}.json. Versions are never overwritten: a
// commit writes version prev+1 with Store.PutIfAbsent, so of two writers that
// start from the same version exactly one wins (locally a hard link, on S3 a
// PUT with If-None-Match: *). The newest version is the state; Commit keeps
// the two before it and deletes older ones.
//
// Segments are sorted by id, non-empty and contiguous (each starts at the
// previous one's last id + 1); their ts ranges are non-decreasing, so Select
// finds the segments of an id or ts range by binary search.
//
// Concurrency: a Manifest is a value; it is not modified after Load or
// Commit returns it, so it may be shared by readers. Commit is safe to call
// concurrently (the store arbitrates).
//
// Imports: base, storage and the standard library.
package manifest
