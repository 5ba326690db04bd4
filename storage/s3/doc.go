// Package s3 is a storage.Store over an S3 bucket (AWS S3, MinIO or any
// S3-compatible endpoint, path-style or virtual-host), built on
// aws-sdk-go-v2.
//
// Layout: the object at key k lives at Options.Prefix+k in Options.Bucket.
// Each Store also owns a local cache directory (Options.CacheDir):
//
//	{CacheDir}/objects/{key}   the cached copy of an object, complete or absent
//	{CacheDir}/tmp/            upload spools and downloads in progress
//
// An ObjectWriter spools to a file under tmp/; Commit uploads it (one
// PutObject, or a multipart upload above Options.PartSize) and then renames
// the spool into objects/, so a segment just written is readable locally
// without a download. Open and LocalPath serve the cached copy, downloading
// it first (to tmp/, checked against Content-Length, fsynced, renamed) when
// it is missing. DuckDB here has no httpfs, so SQL reads segments through
// LocalPath. Cached copies are trusted: objects are immutable (segment keys
// are never reused and manifest versions are only added), so a copy is never
// stale; an object deleted by another node stays readable from this node's
// cache until this node deletes it too. Nothing evicts the cache; Delete
// removes the copy with the object.
//
// PutIfAbsent is a PutObject with If-None-Match: * (for data larger than
// PartSize, a multipart upload whose Complete carries the condition; a
// loser aborts its upload). S3 answers 412 PreconditionFailed to all but one
// of racing writers; that becomes an error wrapping storage.ErrExists. A 409
// ConditionalRequestConflict (AWS, while another conditional write of the
// key is in flight) is reported the same way: reload and retry.
//
// Errors: every failure of S3 itself (network, 5xx, throttling, and also
// denied credentials or a missing bucket, which are configuration errors
// that no client can fix) wraps base.ErrOverCapacity with a retry hint, so
// the engine keeps the data in its WAL and retries; the message says what to
// check. A missing object wraps base.ErrNotFound; a malformed key
// base.ErrInvalid; a cancelled context keeps its context error.
//
// Concurrency: a Store is safe for concurrent use; concurrent Opens of one
// uncached key share one download. An ObjectWriter is used by one goroutine
// at a time; an Object's ReadAt may be called concurrently. Two Stores must
// not share a CacheDir (New removes leftovers under tmp/). Locks: Store.mu
// guards only the map of downloads in flight and is never held across I/O.
//
// Imports: the standard library, aws-sdk-go-v2 (aws, config, service/s3,
// transport/http) and smithy-go, base, storage and storage/vfs.
package s3
