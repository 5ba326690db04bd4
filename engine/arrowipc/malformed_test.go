package arrowipc

import (
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// allocBound is the most a Decode of n bytes may allocate in the tests.
func allocBound(n int) uint64 { return 64*uint64(n) + 4<<20 }

// decodeAlloc decodes body and returns the bytes allocated meanwhile.
func decodeAlloc(body []byte) (*Stream, error, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := Decode(body, memory.DefaultAllocator, Limits{})
	runtime.ReadMemStats(&after)
	return s, err, after.TotalAlloc - before.TotalAlloc
}

func TestMalformed(t *testing.T) {
	files := ipcFiles(t, "malformed", "*")
	worst, worstName := 0.0, ""
	for _, f := range files {
		s, err, alloc := decodeAlloc(f.data)
		switch {
		case err != nil && !isKindErr(err):
			t.Errorf("%s: error of no kind: %v", f.name, err)
		case err == nil && s.Rows != 0:
			t.Errorf("%s: decoded %d rows from a malformed stream", f.name, s.Rows)
		}
		if err == nil {
			t.Logf("%s: accepted (%d batches, 0 rows)", f.name, len(s.Batches))
			s.Release()
		}
		if alloc > allocBound(len(f.data)) {
			t.Errorf("%s: %d bytes allocated for a %d-byte body (bound %d)", f.name, alloc, len(f.data), allocBound(len(f.data)))
		}
		if r := float64(alloc) / float64(len(f.data)); r > worst {
			worst, worstName = r, f.name
		}
		if testing.Verbose() && err != nil {
			t.Logf("%s: %v", f.name, err)
		}
	}
	t.Logf("worst allocation: %.1f bytes per body byte (%s)", worst, worstName)
}

func TestMalformedNoLeak(t *testing.T) {
	files := ipcFiles(t, "malformed", "*")
	const total = 2000
	run := func(n int) {
		for i := 0; i < n; i++ {
			f := files[i%len(files)]
			if s, err := Decode(f.data, nil, Limits{}); err == nil {
				s.Release()
			}
		}
	}
	run(len(files)) // warm up pools and lazily built tables
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	run(total)
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("HeapInuse %d -> %d after %d decodes", before.HeapInuse, after.HeapInuse, total)
	if grew > 8<<20 {
		t.Fatalf("HeapInuse grew by %d bytes over %d decodes of malformed input", grew, total)
	}
}
