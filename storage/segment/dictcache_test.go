package segment

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestDictBuilderCache: values that share a cache slot (same length and
// outer bytes, or the same slot by chance), interleaved, and nulls, encode
// to a dictionary of exactly the distinct values with the right indices.
func TestDictBuilderCache(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	// Same length, same first and last 8 bytes: always the same slots, so
	// with three of them one always misses the cache.
	same := []string{"prefix__A__suffix", "prefix__B__suffix", "prefix__C__suffix"}
	a0, b0 := slotsOf([]byte(same[0]))
	if a1, b1 := slotsOf([]byte(same[1])); a0 != a1 || b0 != b1 {
		t.Fatal("test values should share their slots")
	}
	var vals []string
	for i := range 3000 {
		switch {
		case i%11 == 0:
			vals = append(vals, "") // null
		case i%2 == 0:
			vals = append(vals, same[i%3])
		default:
			vals = append(vals, fmt.Sprintf("v%d", i%600)) // 600 values in 256 slots
		}
	}
	b := array.NewStringBuilder(mem)
	for _, v := range vals {
		if v == "" {
			b.AppendNull()
		} else {
			b.Append(v)
		}
	}
	a := b.NewArray()
	b.Release()
	defer a.Release()
	d := dictBuilder{mem: mem}
	for _, off := range []int64{0, 7} { // twice: the builder is reused
		got := d.build([]arrow.Array{a}, off, int64(len(vals))-off)
		if got == nil {
			t.Fatal("no dictionary")
		}
		dict := got.Dictionary().(*array.String)
		seen := map[string]bool{}
		for i := range dict.Len() {
			if seen[dict.Value(i)] {
				t.Fatalf("dictionary repeats %q", dict.Value(i))
			}
			seen[dict.Value(i)] = true
		}
		want := map[string]bool{}
		for i, v := range vals[off:] {
			row := got.IsValid(i)
			if (v == "") == row {
				t.Fatalf("row %d: valid %t, value %q", i, row, v)
			}
			if v == "" {
				continue
			}
			want[v] = true
			if g := dict.Value(got.GetValueIndex(i)); g != v {
				t.Fatalf("row %d: %q, want %q", i, g, v)
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("dictionary has %d values, rows use %d", len(seen), len(want))
		}
		got.Release()
	}
}
