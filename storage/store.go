package storage

import (
	"context"
	"fmt"
	"io"

	"github.com/ducktail/ducktail/base"
)

// ErrExists is returned (wrapped) by PutIfAbsent when the key already holds an
// object. It wraps base.ErrConflict, so errors.Is(err, base.ErrConflict) holds.
var ErrExists = fmt.Errorf("storage: object exists: %w", base.ErrConflict)

// Store holds immutable objects by key. Keys are slash-separated relative
// paths ("streams/demo/events/x.parquet"): no leading or trailing slash, no
// empty, "." or ".." segment, no backslash.
type Store interface {
	// Create starts writing a new object; nothing is visible at key until
	// Commit returns nil. Committing over an existing key replaces it.
	Create(ctx context.Context, key string) (ObjectWriter, error)
	// PutIfAbsent writes a small object atomically and durably only if key
	// does not exist; if it exists it returns an error wrapping ErrExists.
	PutIfAbsent(ctx context.Context, key string, data []byte) error
	// Open opens an object for random access reads. A missing key is an
	// error wrapping base.ErrNotFound.
	Open(ctx context.Context, key string) (Object, error)
	// List returns the keys of the objects directly under prefix, sorted:
	// not those in deeper "directories" (as an S3 listing with delimiter
	// '/'), so a stream's listing does not include its substreams'
	// (".../sub=x/...") objects. prefix is "" or ends in '/'. A prefix
	// holding nothing is an empty list, not an error.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object at key. Deleting a missing key is not an
	// error (as in S3).
	Delete(ctx context.Context, key string) error
}

// ObjectWriter writes one new object. Exactly one of Commit or Abort ends it;
// calling Abort after Commit (for example deferred) is a no-op returning nil.
type ObjectWriter interface {
	io.Writer
	// Commit makes the object durable and then visible at its key. On error
	// nothing is visible at the key (unless an older object was there).
	Commit() error
	// Abort discards what was written.
	Abort() error
}

// Object is an open object for random access reads.
type Object interface {
	io.ReaderAt
	io.Closer
	// Size is the object's length in bytes.
	Size() int64
}

// Pather is an optional capability of a Store whose objects are local files:
// Path returns the filesystem path of key, so DuckDB can read_parquet it.
type Pather interface {
	Path(key string) string
}
