package mempool

import (
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/array"
)

func aligned(b []byte) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%alignment == 0
}

func TestAllocate(t *testing.T) {
	a := New()
	for _, size := range []int{1, 63, 64, 4095, 4096, 4097, 100 << 10, 1 << 20, 1<<26 + 1} {
		b := a.Allocate(size)
		if len(b) != size {
			t.Errorf("Allocate(%d): len %d", size, len(b))
		}
		if !aligned(b) {
			t.Errorf("Allocate(%d): not %d-byte aligned", size, alignment)
		}
		for i, x := range b {
			if x != 0 {
				t.Fatalf("Allocate(%d): byte %d is %d, want 0", size, i, x)
			}
		}
		a.Free(b)
	}
}

// TestReuse: a freed buffer comes back for a request of its class, zeroed.
// sync.Pool may drop entries at any GC, so the test only asserts what
// holds whether or not the buffer is reused.
func TestReuse(t *testing.T) {
	a := New()
	b := a.Allocate(10000) // class 16 KiB
	if cap(b) != 16<<10 {
		t.Fatalf("cap %d, want %d", cap(b), 16<<10)
	}
	for i := range b {
		b[i] = 0xff
	}
	a.Free(b)
	c := a.Allocate(9000)
	if cap(c) != 16<<10 || len(c) != 9000 {
		t.Fatalf("len %d cap %d, want 9000 and %d", len(c), cap(c), 16<<10)
	}
	for i, x := range c {
		if x != 0 {
			t.Fatalf("reused buffer: byte %d is %#x, want 0", i, x)
		}
	}
}

func TestReallocate(t *testing.T) {
	a := New()
	b := a.Allocate(5000)
	for i := range b {
		b[i] = byte(i)
	}
	for _, size := range []int{6000, 8192, 20000, 100} {
		b = a.Reallocate(size, b)
		if len(b) != size {
			t.Fatalf("Reallocate(%d): len %d", size, len(b))
		}
		for i := 0; i < min(size, 5000); i++ {
			if b[i] != byte(i) {
				t.Fatalf("Reallocate(%d): byte %d is %d, want %d", size, i, b[i], byte(i))
			}
		}
	}
}

// TestFreeForeign: Free ignores buffers it could not have handed out.
func TestFreeForeign(t *testing.T) {
	a := New()
	for _, b := range [][]byte{nil, make([]byte, 10), make([]byte, 5000), make([]byte, 1<<27)} {
		a.Free(b) // must not panic or pool them
	}
	if got := a.Allocate(5000); cap(got) != 8<<10 {
		t.Fatalf("cap %d after freeing foreign buffers, want %d", cap(got), 8<<10)
	}
}

// TestArrowBuilders: arrays built with the Allocator, released and built
// again (reusing the buffers) hold exactly what was appended.
func TestArrowBuilders(t *testing.T) {
	a := New()
	for round := 0; round < 3; round++ {
		b := array.NewInt64Builder(a)
		sb := array.NewStringBuilder(a)
		for i := 0; i < 5000; i++ {
			if i%7 == 0 {
				b.AppendNull()
				sb.AppendNull()
				continue
			}
			b.Append(int64(i * (round + 1)))
			sb.Append("v")
		}
		ints, strs := b.NewInt64Array(), sb.NewStringArray()
		b.Release()
		sb.Release()
		for i := 0; i < 5000; i++ {
			if null := i%7 == 0; ints.IsNull(i) != null || strs.IsNull(i) != null {
				t.Fatalf("round %d row %d: null %v/%v, want %v", round, i, ints.IsNull(i), strs.IsNull(i), null)
			} else if !null && (ints.Value(i) != int64(i*(round+1)) || strs.Value(i) != "v") {
				t.Fatalf("round %d row %d: %d %q", round, i, ints.Value(i), strs.Value(i))
			}
		}
		ints.Release()
		strs.Release()
	}
}

func BenchmarkAllocateFree(b *testing.B) {
	a := New()
	b.ReportAllocs()
	for b.Loop() {
		a.Free(a.Allocate(256 << 10))
	}
}
