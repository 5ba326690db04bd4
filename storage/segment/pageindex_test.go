package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
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
// column's page statistics are computed by the sink from the codes each
// page's rows use (sink.go), not by pqarrow; a page left without them would
// be recorded as a null page, and a reader filtering pages by the column
// index would skip rows that are there. Its pages end every
// DefaultPageRows rows (the test logs the pages).
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

// TestPagesCutByRows: the pages of every column of flat type end every
// DefaultPageRows rows of the row group (sink.go), so a seek read decodes
// at most a page of each, including a column that encodes to almost
// nothing (_ts), dictionary indices (_event, event) and a column with runs
// of nulls longer than a page (whose all-null pages are not cut); and
// reads across the page ends return the rows written.
func TestPagesCutByRows(t *testing.T) {
	const rows, group, page = 300_000, segment.DefaultRowGroupRows, segment.DefaultPageRows
	s := segmenttest.DemoSchema()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	valid := func(id int64) bool { return (id/20_000)%2 == 0 }
	var recs []arrow.RecordBatch
	for lo := int64(0); lo < rows; lo += 7000 {
		for id := lo; id < min(lo+7000, rows); id++ {
			b.Field(0).(*array.Int64Builder).Append(id)
			b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(segmenttest.TS(id)))
			b.Field(2).(*array.StringBuilder).Append("click")
			b.Field(3).(*array.StringBuilder).AppendNull()
			b.Field(4).(*array.Uint32Builder).AppendNull()
			b.Field(5).(*array.Int64Builder).Append(id * 3)
			b.Field(6).(*array.StringBuilder).Append("e")
			if valid(id) {
				b.Field(7).(*array.Float64Builder).Append(segmenttest.Value(id))
			} else {
				b.Field(7).(*array.Float64Builder).AppendNull()
			}
		}
		recs = append(recs, b.NewRecordBatch())
	}
	defer segmenttest.Release(recs)
	var buf bytes.Buffer
	if _, err := segment.Write(&buf, s, recs, segment.WriterOptions{Allocator: mem}); err != nil {
		t.Fatal(err)
	}
	fr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	first := int64(0)
	for g := range fr.NumRowGroups() {
		rg, err := fr.GetPageIndexReader().RowGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		n := fr.MetaData().RowGroup(g).NumRows()
		if g+1 < fr.NumRowGroups() && n != group {
			t.Fatalf("row group %d: %d rows, want %d", g, n, group)
		}
		for _, col := range []int{1, 2, 5, 6, 7} { // _ts, _event, timestamp, event, value
			oi, err := rg.GetOffsetIndex(col)
			if err != nil || oi == nil {
				t.Fatalf("row group %d column %d: no offset index (%v)", g, col, err)
			}
			locs := oi.GetPageLocations()
			for p, loc := range locs {
				end := n
				if p+1 < len(locs) {
					end = locs[p+1].FirstRowIndex
				}
				if end <= loc.FirstRowIndex {
					t.Fatalf("row group %d column %s page %d: rows %d-%d", g, s.Field(col).Name, p, loc.FirstRowIndex, end-1)
				}
				// A page runs past a multiple of page rows only when every
				// row before it is null: an all-null page is not cut.
				for cut := (loc.FirstRowIndex/page + 1) * page; cut < end; cut += page {
					for row := loc.FirstRowIndex; row < cut; row++ {
						if id := first + row; col != 7 || valid(id) {
							t.Fatalf("row group %d column %s page %d: rows %d-%d, not cut at row %d after a value (row %d)",
								g, s.Field(col).Name, p, loc.FirstRowIndex, end-1, cut, row)
						}
					}
				}
				// _ts is a few bytes a page, and dictionary indices are
				// cut by rows only.
				if col != 5 && col != 7 && loc.FirstRowIndex != int64(p)*page {
					t.Fatalf("row group %d: %s page %d starts at row %d, want %d", g, s.Field(col).Name, p, loc.FirstRowIndex, int64(p)*page)
				}
			}
		}
		first += n
	}
	// Not the checked allocator: arrow-go v18.8's delta decoder never
	// frees its block buffer (initBlock), which the GC takes back.
	rd, err := segment.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	// Windows across page ends, row group ends and null runs.
	for _, from := range []int64{0, page - 1, page - 500, 3*page - 7, group - 300, group + page - 1, 20_000 - 10, 39_999, rows - 1000} {
		got, err := rd.ReadRange(context.Background(), from, from+1000, math.MinInt64, math.MaxInt64, 0)
		if err != nil {
			t.Fatal(err)
		}
		id := from
		for _, r := range got {
			ts := r.Column(1).(*array.Timestamp)
			tsc := r.Column(5).(*array.Int64)
			val := r.Column(7).(*array.Float64)
			for i := range int(r.NumRows()) {
				if int64(ts.Value(i)) != segmenttest.TS(id) || tsc.Value(i) != id*3 ||
					val.IsValid(i) != valid(id) || (valid(id) && val.Value(i) != segmenttest.Value(id)) {
					t.Fatalf("read from %d: row %d is _ts %d, timestamp %d, value %v (valid %v); want %d, %d, %v (valid %v)",
						from, id, ts.Value(i), tsc.Value(i), val.Value(i), val.IsValid(i), segmenttest.TS(id), id*3, segmenttest.Value(id), valid(id))
				}
				id++
			}
			r.Release()
		}
		if id != min(from+1000, rows) {
			t.Fatalf("read from %d: %d rows, want %d", from, id-from, min(from+1000, rows)-from)
		}
	}
}
