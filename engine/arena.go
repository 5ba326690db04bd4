package engine

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// arena hands out space for request bodies in large chunks, so that holding a
// body until its batch is flushed costs no allocation per request once the
// chunks are warm. A chunk goes back to the free list when every batch in it
// has been released and the arena has moved on to another chunk.
//
// Safe for concurrent use.
type arena struct {
	chunkSize int
	maxFree   int

	mu   sync.Mutex
	cur  *chunk
	free []*chunk
}

type chunk struct {
	a    *arena
	buf  []byte
	off  int
	refs atomic.Int32 // one per live allocation, plus one while it is the arena's current chunk
}

func newArena(chunkSize, maxFree int) *arena {
	return &arena{chunkSize: chunkSize, maxFree: maxFree}
}

// copyIn copies b into the arena and returns the copy, 8-byte aligned, and
// the chunk to release when the copy is no longer used. Bodies larger than a
// chunk get a chunk of their own.
func (a *arena) copyIn(b []byte) ([]byte, *chunk) {
	n := (len(b) + 7) &^ 7
	a.mu.Lock()
	if n > a.chunkSize {
		a.mu.Unlock()
		c := &chunk{a: a, buf: make([]byte, n)}
		c.refs.Store(1)
		copy(c.buf, b)
		return c.buf[:len(b)], c
	}
	if a.cur == nil || a.cur.off+n > len(a.cur.buf) {
		if a.cur != nil && a.cur.refs.Add(-1) == 0 {
			// The arena held the last reference: recycle it here, under
			// the lock we already hold (release would take it again).
			a.putLocked(a.cur)
		}
		a.cur = a.newChunkLocked()
	}
	c := a.cur
	dst := c.buf[c.off : c.off+len(b)]
	c.off += n
	c.refs.Add(1)
	a.mu.Unlock()
	copy(dst, b)
	return dst, c
}

func (a *arena) newChunkLocked() *chunk {
	var c *chunk
	if k := len(a.free); k > 0 {
		c = a.free[k-1]
		a.free = a.free[:k-1]
		c.off = 0
	} else {
		c = &chunk{a: a, buf: make([]byte, a.chunkSize)}
	}
	c.refs.Store(1)
	return c
}

func (c *chunk) release() {
	if c.refs.Add(-1) != 0 {
		return
	}
	a := c.a
	a.mu.Lock()
	a.putLocked(c)
	a.mu.Unlock()
}

// putLocked puts an unreferenced chunk on the free list.
// REQUIRES: a.mu held.
func (a *arena) putLocked(c *chunk) {
	if len(c.buf) == a.chunkSize && len(a.free) < a.maxFree {
		a.free = append(a.free, c)
	}
}

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
