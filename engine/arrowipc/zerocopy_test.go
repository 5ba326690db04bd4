package arrowipc

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
)

// inside reports whether b lies within body's memory.
func inside(b, body []byte) bool {
	if len(b) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(body)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(body))
}

func TestZeroCopy(t *testing.T) {
	body := sampleStream(t, 2, 1000)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := Decode(body, mem, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	if s.Rows != 2000 || len(s.Batches) != 2 {
		t.Fatalf("got %d rows in %d batches", s.Rows, len(s.Batches))
	}
	for bi, rec := range s.Batches {
		for ci, col := range rec.Columns() {
			for i, buf := range col.Data().Buffers() {
				if buf == nil || buf.Len() == 0 {
					continue
				}
				if !inside(buf.Bytes(), body) {
					t.Errorf("batch %d column %d buffer %d does not point into the body", bi, ci, i)
				}
			}
		}
		ids := rec.Column(0).(*array.Int64)
		if ids.Value(999) != 999 {
			t.Fatalf("id[999] = %d", ids.Value(999))
		}
	}
	if mem.CurrentAlloc() != 0 {
		t.Fatalf("allocator holds %d bytes for an uncompressed stream", mem.CurrentAlloc())
	}
}

// TestMisalignedBodyIsCopied decodes a stream placed at an odd address:
// buffers are copied into aligned memory and the values are unchanged.
func TestMisalignedBodyIsCopied(t *testing.T) {
	body := sampleStream(t, 1, 100)
	shifted := make([]byte, len(body)+1)[1:]
	copy(shifted, body)
	s, err := Decode(shifted, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	col := s.Batches[0].Column(0)
	if b := col.Data().Buffers()[1].Bytes(); inside(b, shifted) || uintptr(unsafe.Pointer(&b[0]))%8 != 0 {
		t.Fatalf("misaligned buffer was not copied to aligned memory")
	}
	if v := col.(*array.Int64).Value(42); v != 42 {
		t.Fatalf("value 42 = %d", v)
	}
	// With no allowance for copies, realigning is refused as too large.
	if _, err := Decode(shifted, nil, Limits{MaxDecompressedBytes: 1}); !errors.Is(err, base.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

// zerosStream is a zstd-compressed stream whose one int64 column holds n
// zeros.
func zerosStream(t *testing.T, n int, opts ...ipc.Option) []byte {
	schema := arrow.NewSchema([]arrow.Field{{Name: "z", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(make([]int64, n), nil)
	arr := b.NewArray()
	defer arr.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{arr}, int64(n))
	defer rec.Release()
	return writeStream(t, schema, []arrow.RecordBatch{rec}, opts...)
}

func TestCompressionBomb(t *testing.T) {
	const n = 50 << 20 / 8 // 50 MB of int64 zeros
	body := zerosStream(t, n, ipc.WithZstd())
	t.Logf("50 MB of zeros compress to a %d-byte stream", len(body))
	for _, lim := range []Limits{{}, {MaxRows: n}} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Decode(body, nil, lim)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, base.ErrTooLarge) {
			t.Fatalf("limits %+v: err = %v, want ErrTooLarge", lim, err)
		}
		if lim.MaxRows != 0 && !strings.Contains(err.Error(), "MaxDecompressedBytes") {
			t.Fatalf("error %q does not name MaxDecompressedBytes", err)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("limits %+v: refused with %q after allocating %d bytes", lim, err, alloc)
		if alloc > 2<<20 {
			t.Fatalf("allocated %d bytes refusing a bomb", alloc)
		}
	}
	// Within an explicit allowance the same stream decodes.
	s, err := Decode(body, nil, Limits{MaxDecompressedBytes: 64 << 20, MaxRows: n})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	if s.Rows != n {
		t.Fatalf("rows = %d", s.Rows)
	}
}

func TestCompressedRoundTrip(t *testing.T) {
	for _, opt := range []ipc.Option{ipc.WithZstd(), ipc.WithLZ4()} {
		rec := sampleBatch(3000)
		body := writeStream(t, rec.Schema(), []arrow.RecordBatch{rec}, opt)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		s, err := Decode(body, mem, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !array.RecordEqual(rec, s.Batches[0]) {
			t.Fatal("decoded batch differs")
		}
		s.Release()
		rec.Release()
		mem.AssertSize(t, 0)
	}
}
