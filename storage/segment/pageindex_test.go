package segment_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// TestColumnIndexPages: every page of a text column that holds values is a
// non-null page of the column index whose min and max bound its values,
// for dictionary and plain columns, with and without nulls. A dictionary
// column's page statistics are set once per row group from the dictionary
// (sink.go, as pqarrow does); a page cut after the first would count no
// values and be recorded as a null page, and a reader filtering pages by
// the column index would skip rows that are there. arrow-go v18.8 writes a
// row group's dictionary indices as one page (the test logs the pages).
func TestColumnIndexPages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value func(id int64) (string, bool)
	}{
		// 16,001 values: under dictBuilder's 16,384, and
		// 14-bit indices, 224 KB a row group.
		{"dictionary", func(id int64) (string, bool) { return fmt.Sprintf("u%05d", (id*7919)%16_001), true }},
		{"dictionary with nulls", func(id int64) (string, bool) { return fmt.Sprintf("u%05d", (id*7919)%16_001), id%5 != 0 }},
		{"dictionary, null runs", func(id int64) (string, bool) { return fmt.Sprintf("u%05d", (id*7919)%16_001), (id/40_000)%2 == 0 }},
		// Mostly distinct: the dictionary outgrows its page and the
		// values are written plain.
		{"plain", func(id int64) (string, bool) { return fmt.Sprintf("user-%07d", (id*7919)%1_000_003), true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rows = 200_000
			s := segmenttest.DemoSchema()
			b := array.NewRecordBuilder(memory.DefaultAllocator, s)
			defer b.Release()
			values := make([]string, rows)
			valid := make([]bool, rows)
			var recs []arrow.RecordBatch
			for lo := int64(0); lo < rows; lo += 10_000 {
				for id := lo; id < lo+10_000; id++ {
					b.Field(0).(*array.Int64Builder).Append(id)
					b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(segmenttest.TS(id)))
					b.Field(2).(*array.StringBuilder).Append("click")
					b.Field(3).(*array.StringBuilder).AppendNull()
					b.Field(4).(*array.Uint32Builder).AppendNull()
					b.Field(5).(*array.Int64Builder).Append(id)
					v, ok := tc.value(id)
					values[id], valid[id] = v, ok
					if ok {
						b.Field(6).(*array.StringBuilder).Append(v)
					} else {
						b.Field(6).(*array.StringBuilder).AppendNull()
					}
					b.Field(7).(*array.Float64Builder).Append(1)
				}
				recs = append(recs, b.NewRecordBatch())
			}
			defer segmenttest.Release(recs)
			var buf bytes.Buffer
			if _, err := segment.Write(&buf, s, recs, segment.WriterOptions{}); err != nil {
				t.Fatal(err)
			}
			fr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer fr.Close()
			const col = 6 // event
			pages, first := 0, int64(0)
			for g := range fr.NumRowGroups() {
				rg, err := fr.GetPageIndexReader().RowGroup(g)
				if err != nil {
					t.Fatal(err)
				}
				ci, err := rg.GetColumnIndex(col)
				if err != nil || ci == nil {
					t.Fatalf("row group %d: no column index for event (%v)", g, err)
				}
				oi, err := rg.GetOffsetIndex(col)
				if err != nil {
					t.Fatal(err)
				}
				locs := oi.GetPageLocations()
				nulls, mins, maxs := ci.GetNullPages(), ci.GetMinValues(), ci.GetMaxValues()
				if len(nulls) != len(locs) {
					t.Fatalf("row group %d: %d column index entries for %d pages", g, len(nulls), len(locs))
				}
				n := fr.MetaData().RowGroup(g).NumRows()
				for p, loc := range locs {
					lo := first + loc.FirstRowIndex
					hi := first + n
					if p+1 < len(locs) {
						hi = first + locs[p+1].FirstRowIndex
					}
					any := false
					for id := lo; id < hi; id++ {
						if !valid[id] {
							continue
						}
						any = true
						if !nulls[p] && (values[id] < string(mins[p]) || values[id] > string(maxs[p])) {
							t.Fatalf("row group %d page %d: value %q of row %d outside [%q, %q]", g, p, values[id], id, mins[p], maxs[p])
						}
					}
					if nulls[p] && any {
						t.Fatalf("row group %d page %d (rows %d-%d): the column index says null page, but it holds values", g, p, lo, hi-1)
					}
				}
				pages += len(locs)
				first += n
			}
			t.Logf("%d pages in %d row groups", pages, fr.NumRowGroups())
		})
	}
}
