// Package arrowipc decodes untrusted Arrow IPC streams (the body of
// POST /ingest/{token}) into arrow record batches that point into the request
// body, without trusting a single length the body declares.
//
// # Format
//
// An Arrow IPC stream is a sequence of messages. Each message is framed as an
// optional 0xFFFFFFFF continuation marker, an int32 little-endian metadata
// length, that many bytes of flatbuffer metadata (a Message table whose header
// is a Schema, DictionaryBatch or RecordBatch) and then the message body,
// whose length the metadata declares. A zero metadata length is the
// end-of-stream marker. The first message must be the schema; dictionary
// batches and record batches follow.
//
// Decode parses the framing itself, verifies every flatbuffer table, vector
// and string it (or arrow-go) will read against the metadata bytes, and
// bounds every declared length by the bytes actually present before anything
// is allocated. arrow-go is used only to turn the verified schema flatbuffer
// into an *arrow.Schema; record and dictionary batches are loaded by this
// package from the body slice (zero copy for uncompressed buffers),
// decompressed (LZ4 frame, ZSTD) only within Limits.MaxDecompressedBytes,
// and every array is validated recursively (buffer sizes, offsets, views,
// union type ids, run ends, dictionary indices, null counts, UTF-8) before
// arrow-go's typed arrays are built over it. Big-endian streams are refused.
//
// Alignment: buffers that are not 8-byte aligned in memory are copied into
// aligned memory (the copy counts against Limits.MaxDecompressedBytes), so
// every typed view arrow-go makes over a buffer is aligned on any
// architecture. A body whose messages are 8-byte aligned (as every
// conforming writer produces) placed in a Go-allocated slice is never copied.
//
// # Concurrency
//
// Decode and DecodeSchema are safe for concurrent use: they keep no state
// between calls. A Stream is not safe for concurrent Release; its record
// batches are immutable and may be read concurrently.
//
// # Imports
//
// The standard library, base, arrow-go (arrow, arrow/array, arrow/ipc,
// arrow/memory, arrow/bitutil) and the compression libraries arrow-go itself
// uses (klauspost/compress/zstd, pierrec/lz4/v4). Nothing else of ducktail.
package arrowipc
