// Package mempool is an Arrow memory.Allocator that recycles the buffers
// it hands out. Arrow's default allocator makes every buffer with make and
// ignores Free, so a read path that decodes a few pages per request leaves
// megabytes a second for the garbage collector, which then costs more CPU
// than the decoding (measured on 1,000-event range reads: about half of
// the server's CPU was the collector's). An Allocator here keeps freed
// buffers in per-size-class sync.Pools and gives them out again, zeroed.
//
// Only code that releases what it allocates (arrow-go's array, buffer and
// Parquet reader types, with Retain/Release kept balanced) should use it: a
// buffer freed too early is reused while still referenced. Buffers that are
// never freed are simply collected, as with the default allocator.
//
// It imports only the standard library and arrow's memory package.
package mempool

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

const (
	// minShift and maxShift bound the pooled size classes: 4 KiB to 64 MiB.
	// Smaller buffers are cheap for the allocator and the collector alike;
	// larger ones are rare and would pin a lot of memory in a pool.
	minShift = 12
	maxShift = 26
	// alignment is Arrow's buffer alignment. Power-of-two sizes from 4 KiB
	// up are at least page-aligned by Go's allocator; small buffers are
	// padded as memory.GoAllocator pads them.
	alignment = 64
)

// Allocator recycles buffers of 4 KiB to 64 MiB through sync.Pools, one per
// power-of-two size class. The zero value is ready to use; it is safe for
// concurrent use and must not be copied after first use.
type Allocator struct {
	classes [maxShift - minShift + 1]sync.Pool
}

var _ memory.Allocator = (*Allocator)(nil)

// New returns an empty Allocator.
func New() *Allocator { return &Allocator{} }

// class returns the size class index for a request of size bytes, or -1
// when size is outside the pooled range.
func class(size int) int {
	if size <= 0 || size > 1<<maxShift {
		return -1
	}
	shift := bits.Len(uint(size - 1))
	if shift < minShift {
		return -1
	}
	return shift - minShift
}

// Allocate returns a zeroed, 64-byte-aligned slice of size bytes.
func (a *Allocator) Allocate(size int) []byte {
	c := class(size)
	if c < 0 {
		return allocateSmall(size)
	}
	n := 1 << (c + minShift)
	if p, ok := a.classes[c].Get().(unsafe.Pointer); ok {
		b := unsafe.Slice((*byte)(p), n)[:size]
		clear(b)
		return b
	}
	return make([]byte, n)[:size]
}

// allocateSmall is memory.GoAllocator's Allocate: padded to align.
func allocateSmall(size int) []byte {
	buf := make([]byte, size+alignment)
	shift := int(-uintptr(unsafe.Pointer(unsafe.SliceData(buf))) & (alignment - 1))
	return buf[shift : size+shift : size+shift]
}

// Reallocate returns b resized to size bytes, moving it to a larger buffer
// (and freeing b) when its capacity is too small. Bytes past b's length
// are not necessarily zero, as with memory.GoAllocator.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free returns b to its size class's pool when it is one of the pooled
// sizes; other buffers are left to the garbage collector.
func (a *Allocator) Free(b []byte) {
	n := cap(b)
	if n < 1<<minShift || n > 1<<maxShift || n&(n-1) != 0 {
		return
	}
	// A pointer, not a slice, goes into the pool: storing a slice in an
	// interface would allocate its header on every Free.
	a.classes[bits.Len(uint(n))-1-minShift].Put(unsafe.Pointer(unsafe.SliceData(b[:1])))
}
