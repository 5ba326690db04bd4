package sqlengine

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Result is a query result as Arrow record batches. The caller must call
// Release when done, which also returns the query's connection to the pool.
// A Result is not safe for concurrent use.
type Result struct {
	// Schema is the result's schema.
	Schema *arrow.Schema
	// Reader yields the result's batches. A batch is valid until the next
	// call of Next; Retain it to keep it longer.
	Reader array.RecordReader

	once    sync.Once
	release func()
}

// Release frees the result and its connection. It is idempotent.
func (r *Result) Release() {
	r.once.Do(func() {
		if r.release != nil {
			r.release()
		}
	})
}

// AfterRelease makes Release call f once the result and its connection are
// released: what a caller holding the engine open for the result's lifetime
// needs. It must be called before Release.
func (r *Result) AfterRelease(f func()) {
	prev := r.release
	r.release = func() {
		if prev != nil {
			prev()
		}
		f()
	}
}
