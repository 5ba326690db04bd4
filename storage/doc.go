// Package storage holds ducktail's immutable objects: Parquet segments and
// numbered manifest versions, addressed by slash-separated keys such as
// "streams/demo/events/00000000000000000000-00000000000000099999.parquet".
//
// Store is the seam between the engine and where objects live. Local keeps
// them as files under a root directory (through storage/vfs, so tests can
// inject failures); an S3 implementation will follow. Objects are written
// once and never modified: an ObjectWriter makes its object visible at Commit
// and not before, and PutIfAbsent is the compare-and-set that numbered
// manifest versions are committed with (a local hard link here, an S3
// conditional PUT with If-None-Match: * later).
//
// Optional capabilities are found by type assertion, as in database/sql/driver:
// Pather gives the local path of a key, so DuckDB can read_parquet it directly.
//
// Concurrency: a Store is safe for concurrent use. An ObjectWriter and an
// Object are used by one goroutine at a time (Object.ReadAt may be called
// concurrently, as io.ReaderAt promises).
//
// Imports: the standard library, base and storage/vfs only.
package storage
