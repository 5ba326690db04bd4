package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// writeNoPageIndex writes recs the way segments were written before the
// page index: same row groups, statistics and pages, no offset index.
func writeNoPageIndex(t *testing.T, s *arrow.Schema, recs []arrow.RecordBatch, rowGroup, page int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(rowGroup),
		parquet.WithDataPageSize(page),
		parquet.WithEncodingFor("_id", parquet.Encodings.DeltaBinaryPacked),
		parquet.WithDictionaryFor("_id", false),
	)
	fw, err := pqarrow.NewFileWriter(s, &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := fw.WriteBuffered(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSeekReads reads windows of a 300,000-row event segment with small
// pages (about 160 rows of _data each) and checks every value of every row
// returned: from a segment with a page index (seek reads) and from one
// without (whole row group reads), which must agree.
func TestSeekReads(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer assertNoLeak(t, mem)
	const (
		rows  = 300_000
		group = 131_072
		page  = 16 << 10
		minI  = math.MinInt64
		maxI  = math.MaxInt64
	)
	recs := segmenttest.EventBatches(mem, 0, rows, 7000)
	var buf bytes.Buffer
	if _, err := segment.Write(&buf, segmenttest.EventSchema(), recs, segment.WriterOptions{RowGroupRows: group, PageSize: page, Allocator: mem}); err != nil {
		t.Fatal(err)
	}
	old := writeNoPageIndex(t, segmenttest.EventSchema(), recs, group, page)
	segmenttest.Release(recs)
	ts := segmenttest.TS

	for _, file := range []struct {
		name    string
		data    []byte
		seeking bool
	}{{"page index", buf.Bytes(), true}, {"no page index", old, false}} {
		cr := &countingReaderAt{r: bytes.NewReader(file.data)}
		r, err := segment.Open(cr, int64(len(file.data)), mem)
		if err != nil {
			t.Fatalf("%s: %v", file.name, err)
		}
		defer r.Close()
		for _, tc := range []struct {
			name                      string
			from, to, since, until, n int64
			wantFirst, wantN          int64
			small                     bool // reads a small part of the file when seeking
		}{
			{"mid page", 1234, 1300, minI, maxI, 0, 1234, 66, true},
			{"one row", 77_777, 77_778, minI, maxI, 0, 77_777, 1, true},
			{"first row", 0, 1, minI, maxI, 0, 0, 1, true},
			{"last row", rows - 1, rows, minI, maxI, 0, rows - 1, 1, true},
			{"last row, open end", rows - 1, maxI, minI, maxI, 0, rows - 1, 1, true},
			{"spanning pages", 500, 5500, minI, maxI, 0, 500, 5000, true},
			{"1,000 rows", 200_000, 201_000, minI, maxI, 0, 200_000, 1000, true},
			{"spanning groups", group - 300, group + 700, minI, maxI, 0, group - 300, 1000, true},
			{"spanning three groups", group - 1, 2*group + 1, minI, maxI, 0, group - 1, group + 2, false},
			{"limit", 100_001, 200_000, minI, maxI, 10, 100_001, 10, true},
			// ts(id) is the _ts of id; three ids share each millisecond.
			{"ids and ts", 1000, 50_000, ts(2000), ts(3000), 0, 1998, 1002, false},
			{"ids, ts and limit", 1000, 50_000, ts(2000), ts(3000), 7, 1998, 7, false},
			{"ts past the window", 1000, 2000, ts(5000), maxI, 0, 0, 0, false},
			{"ts inside the window", 1000, 50_000, ts(45_000), maxI, 0, 45_000, 5000, false},
			{"whole group", group, 2 * group, minI, maxI, 0, group, group, false},
		} {
			cr.n.Store(0)
			got, err := r.ReadRange(context.Background(), tc.from, tc.to, tc.since, tc.until, tc.n)
			if err != nil {
				t.Fatalf("%s, %s: %v", file.name, tc.name, err)
			}
			defer segmenttest.Release(got)
			next, n := tc.wantFirst, int64(0)
			for _, rec := range got {
				if !rec.Schema().Equal(segmenttest.EventSchema()) {
					t.Fatalf("%s, %s: schema %s", file.name, tc.name, rec.Schema())
				}
				ids := rec.Column(0).(*array.Int64)
				tss := rec.Column(1).(*array.Timestamp)
				evs := rec.Column(2).(*array.String)
				cts := rec.Column(5).(*array.String)
				data := rec.Column(6).(*array.Binary)
				for i := range int(rec.NumRows()) {
					wantEv := "view"
					if next%5 == 0 {
						wantEv = "click"
					}
					if ids.Value(i) != next || int64(tss.Value(i)) != ts(next) || evs.Value(i) != wantEv ||
						rec.Column(3).IsValid(i) || rec.Column(4).IsValid(i) || cts.Value(i) != "application/json" ||
						!bytes.Equal(data.Value(i), segmenttest.EventData(next)) {
						t.Fatalf("%s, %s: row %d: id %d ts %d event %q data %q, want id %d", file.name, tc.name, n,
							ids.Value(i), tss.Value(i), evs.Value(i), data.Value(i), next)
					}
					next++
					n++
				}
			}
			if n != tc.wantN {
				t.Fatalf("%s, %s: %d rows, want %d", file.name, tc.name, n, tc.wantN)
			}
			if file.seeking && tc.small && cr.n.Load() > int64(len(file.data))/20 {
				t.Errorf("%s, %s: read %d bytes of %d, want a few pages", file.name, tc.name, cr.n.Load(), len(file.data))
			}
		}
	}
}

// TestSeekNested: reads of structs, dictionaries, decimals and nulls
// across many small pages give exactly the rows of the written record,
// with lists (read whole: arrow-go v18.8 mis-seeks repeated columns) and
// without (seek reads).
func TestSeekNested(t *testing.T) {
	for _, lists := range []bool{true, false} {
		t.Run(fmt.Sprintf("lists=%t", lists), func(t *testing.T) { testSeekNested(t, lists) })
	}
}

func testSeekNested(t *testing.T, lists bool) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer assertNoLeak(t, mem)
	seed := nestedRecord(t, mem)
	s := seed.Schema()
	seed.Release()
	if !lists {
		var fields []arrow.Field
		for _, f := range s.Fields() {
			if f.Name != "tags" {
				fields = append(fields, f)
			}
		}
		s = arrow.NewSchema(fields, nil)
	}
	const rows = 20_000
	var doc strings.Builder
	doc.WriteString("[")
	for id := range rows {
		if id > 0 {
			doc.WriteString(",\n")
		}
		switch id % 3 {
		case 0:
			fmt.Fprintf(&doc, `{"_id": %d, "_ts": "2026-11-23T00:00:00Z", "_event": "a%d", "_sub": "x", "_tenant": 3, "tags": [%d, 2, 3], "point": {"x": %d.5, "label": "p%d"}, "country": "fr", "at": "2026-11-23T00:00:00.000001Z", "price": "%d.3400"}`, id, id%7, id, id, id, id)
		case 1:
			fmt.Fprintf(&doc, `{"_id": %d, "_ts": "2026-11-23T00:00:00Z", "_event": "b", "_sub": null, "_tenant": null, "tags": null, "point": null, "country": null, "at": null, "price": null}`, id)
		default:
			fmt.Fprintf(&doc, `{"_id": %d, "_ts": "2026-11-23T00:00:00Z", "_event": "c", "_sub": "y", "_tenant": 0, "tags": [], "point": {"x": -2, "label": null}, "country": "de", "at": "1970-01-01T00:00:00Z", "price": "-0.0001"}`, id)
		}
	}
	doc.WriteString("]")
	// Fields not in s (tags, without lists) are ignored.
	rec, _, err := array.RecordFromJSON(mem, s, strings.NewReader(doc.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	var buf bytes.Buffer
	if _, err := segment.Write(&buf, s, []arrow.RecordBatch{rec}, segment.WriterOptions{RowGroupRows: 8192, PageSize: 1 << 10, Allocator: mem}); err != nil {
		t.Fatal(err)
	}
	r, err := segment.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, w := range [][2]int64{{1, 2}, {777, 1777}, {8191, 8193}, {5000, 17000}, {rows - 1, rows}} {
		got, err := r.ReadRange(context.Background(), w[0], w[1], math.MinInt64, math.MaxInt64, 0)
		if err != nil {
			t.Fatalf("%v: %v", w, err)
		}
		var pos int64
		for _, g := range got {
			want := rec.NewSlice(w[0]+pos, w[0]+pos+g.NumRows())
			for c := range int(want.NumCols()) {
				if !array.Equal(g.Column(c), want.Column(c)) {
					t.Errorf("%v: column %s of rows from %d differs:\n got %.300v\nwant %.300v", w, s.Field(c).Name, w[0]+pos, g.Column(c), want.Column(c))
				}
			}
			want.Release()
			pos += g.NumRows()
		}
		segmenttest.Release(got)
		if pos != w[1]-w[0] {
			t.Fatalf("%v: %d rows", w, pos)
		}
	}
}

// TestSeekKnownColumns: a seek read makes, rather than reads, a column
// whose statistics say it is all null or holds one text value in a row
// group, and reads it where it is not: _sub is null in the first row group,
// "k" in the second and varies in the third, and reads inside each and
// across them get the right values.
func TestSeekKnownColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer assertNoLeak(t, mem)
	const group = 4096
	recs := segmenttest.EventBatches(mem, 0, 3*group, group)
	defer segmenttest.Release(recs)
	wantSub := func(id int64) string {
		switch id / group {
		case 0:
			return ""
		case 1:
			return "k"
		}
		return fmt.Sprintf("s%d", id)
	}
	in := []arrow.RecordBatch{recs[0]}
	for _, rec := range recs[1:] {
		sb := array.NewStringBuilder(mem)
		first := rec.Column(0).(*array.Int64).Value(0)
		for i := range int64(group) {
			sb.Append(wantSub(first + i))
		}
		subs := sb.NewArray()
		sb.Release()
		cols := append([]arrow.Array(nil), rec.Columns()...)
		cols[3] = subs
		withSub := array.NewRecordBatch(rec.Schema(), cols, group)
		subs.Release()
		defer withSub.Release()
		in = append(in, withSub)
	}
	var buf bytes.Buffer
	opts := segment.WriterOptions{RowGroupRows: group, PageSize: 4 << 10, Allocator: mem}
	if _, err := segment.Write(&buf, segmenttest.EventSchema(), in, opts); err != nil {
		t.Fatal(err)
	}
	r, err := segment.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, w := range [][2]int64{{10, 20}, {group + 10, group + 20}, {2*group + 10, 2*group + 20},
		{group - 5, group + 5}, {2*group - 5, 2*group + 5}, {1, 3*group - 1}} {
		got, err := r.ReadRange(context.Background(), w[0], w[1], math.MinInt64, math.MaxInt64, 0)
		if err != nil {
			t.Fatalf("%v: %v", w, err)
		}
		next := w[0]
		for _, rec := range got {
			if !rec.Schema().Equal(segmenttest.EventSchema()) {
				t.Fatalf("%v: schema %s", w, rec.Schema())
			}
			ids, sub := rec.Column(0).(*array.Int64), rec.Column(3).(*array.String)
			cts, data := rec.Column(5).(*array.String), rec.Column(6).(*array.Binary)
			for i := range int(rec.NumRows()) {
				want := wantSub(next)
				if ids.Value(i) != next || sub.IsValid(i) != (want != "") || sub.Value(i) != want ||
					cts.Value(i) != "application/json" || !bytes.Equal(data.Value(i), segmenttest.EventData(next)) {
					t.Fatalf("%v: row %d: id %d _sub %q (valid %v) _content_type %q, want id %d _sub %q",
						w, i, ids.Value(i), sub.Value(i), sub.IsValid(i), cts.Value(i), next, want)
				}
				next++
			}
		}
		segmenttest.Release(got)
		if next != w[1] {
			t.Fatalf("%v: read up to %d", w, next)
		}
	}
}

// TestSeekConstantTextTypes: a column of one value or all nulls in a row
// group is made instead of read only where that keeps its Arrow type and
// place: plain utf8 columns of one value, any type all null, and only
// before the first struct (whose leaves shift the column numbers);
// dictionary and large_utf8 columns of one value, and everything from a
// struct on, are read. Every seek read equals the written rows.
func TestSeekConstantTextTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer assertNoLeak(t, mem)
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	pt := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true})
	s := arrow.NewSchema(append(segment.SystemFields(),
		arrow.Field{Name: "plain", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "country", Type: dict, Nullable: true},
		arrow.Field{Name: "big", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		arrow.Field{Name: "nulldict", Type: dict, Nullable: true},
		arrow.Field{Name: "pt", Type: pt, Nullable: true},
		arrow.Field{Name: "after", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "after_null", Type: arrow.BinaryTypes.String, Nullable: true},
	), nil)
	const rows = 2000
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	for i := range int64(rows) {
		b.Field(0).(*array.Int64Builder).Append(i)
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000 + i))
		b.Field(2).(*array.StringBuilder).Append("e")
		b.Field(3).AppendNull()
		b.Field(4).AppendNull()
		b.Field(5).(*array.StringBuilder).Append("p")
		if err := b.Field(6).(*array.BinaryDictionaryBuilder).AppendString("fr"); err != nil {
			t.Fatal(err)
		}
		b.Field(7).(*array.LargeStringBuilder).Append("L")
		b.Field(8).AppendNull()
		sb := b.Field(9).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Float64Builder).Append(float64(i))
		sb.FieldBuilder(1).(*array.StringBuilder).Append("same")
		b.Field(10).(*array.StringBuilder).Append("a")
		b.Field(11).AppendNull()
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	opts := segment.WriterOptions{RowGroupRows: 1000, PageSize: 1 << 10, Allocator: mem}
	if _, err := segment.Write(&buf, s, []arrow.RecordBatch{rec}, opts); err != nil {
		t.Fatal(err)
	}
	r, err := segment.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, w := range [][2]int64{{500, 1500}, {10, 20}, {1990, 2000}} {
		got, err := r.ReadRange(context.Background(), w[0], w[1], math.MinInt64, math.MaxInt64, 0)
		if err != nil {
			t.Fatalf("%v: %v", w, err)
		}
		n := w[0]
		for _, g := range got {
			if !g.Schema().Equal(r.Schema()) {
				t.Fatalf("%v: schema %s, want %s", w, g.Schema(), r.Schema())
			}
			want := rec.NewSlice(n, n+g.NumRows())
			equal := array.RecordEqual(g, want)
			want.Release()
			if !equal {
				t.Fatalf("%v: rows from %d differ:\n got %v", w, n, g)
			}
			n += g.NumRows()
		}
		segmenttest.Release(got)
		if n != w[1] {
			t.Fatalf("%v: read up to %d", w, n)
		}
	}
}
