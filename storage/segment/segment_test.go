package segment_test

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"math"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// writeDemo writes rows demo rows (ids from 0) in batches of batch rows.
func writeDemo(t testing.TB, mem memory.Allocator, rows, batch int64, opts segment.WriterOptions) ([]byte, segment.Info) {
	t.Helper()
	recs := segmenttest.DemoBatches(mem, 0, rows, batch)
	defer segmenttest.Release(recs)
	var buf bytes.Buffer
	info, err := segment.Write(&buf, segmenttest.DemoSchema(), recs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), info
}

func TestWriteInfoAndStatistics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	const rows = 300_000
	data, info := writeDemo(t, mem, rows, 7000, segment.WriterOptions{RowGroupRows: 131072, Allocator: mem})

	want := segment.Info{
		FirstID: 0, LastID: rows - 1,
		MinTS: segmenttest.TS(0), MaxTS: segmenttest.TS(rows - 1),
		Rows: rows, Bytes: int64(len(data)),
		CRC32C: crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)),
	}
	if info != want {
		t.Fatalf("info %+v, want %+v", info, want)
	}

	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	md := pf.MetaData()
	if md.NumRowGroups() != 3 {
		t.Fatalf("%d row groups, want 3", md.NumRowGroups())
	}
	wantRows := []int64{131072, 131072, rows - 2*131072}
	first := int64(0)
	for i := range 3 {
		rg := md.RowGroup(i)
		if rg.NumRows() != wantRows[i] {
			t.Fatalf("row group %d: %d rows, want %d", i, rg.NumRows(), wantRows[i])
		}
		last := first + wantRows[i] - 1
		for col, want := range [][2]int64{{first, last}, {segmenttest.TS(first), segmenttest.TS(last)}} {
			cc, err := rg.ColumnChunk(col)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression().String() != "ZSTD" {
				t.Errorf("row group %d column %d: compression %s", i, col, cc.Compression())
			}
			st, err := cc.Statistics()
			if err != nil {
				t.Fatal(err)
			}
			is := st.(*metadata.Int64Statistics)
			if !is.HasMinMax() || is.Min() != want[0] || is.Max() != want[1] {
				t.Fatalf("row group %d column %d: stats [%d,%d], want %v", i, col, is.Min(), is.Max(), want)
			}
		}
		first = last + 1
	}
	ts := md.Schema.Column(1).LogicalType().String()
	if ts != `Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds, is_from_converted_type=false, force_set_converted_type=false)` {
		t.Errorf("_ts logical type %s", ts)
	}
}

// assertNoLeak fails if mem holds more than arrow-go's known leak: its
// DELTA_BINARY_PACKED decoder never frees a 64-byte bit-width buffer per
// column chunk it reads (harmless with the Go allocator). A leaked record
// holds at least a row group's buffers, far more than the bound.
func assertNoLeak(t *testing.T, mem *memory.CheckedAllocator) {
	t.Helper()
	if n := mem.CurrentAlloc(); n > 4096 {
		mem.AssertSize(t, 0)
	}
}

func TestReadRange(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer assertNoLeak(t, mem)
	const rows = 300_000
	// 128k-row groups: the cases below cross the first boundary at 131,072.
	data, _ := writeDemo(t, mem, rows, 7000, segment.WriterOptions{Allocator: mem, RowGroupRows: 128 << 10})
	cr := &countingReaderAt{r: bytes.NewReader(data)}
	r, err := segment.Open(cr, int64(len(data)), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumRows() != rows || r.NumRowGroups() != 3 || !r.Schema().Equal(segmenttest.DemoSchema()) {
		t.Fatalf("rows %d groups %d schema %s", r.NumRows(), r.NumRowGroups(), r.Schema())
	}
	pf, _ := file.NewParquetReader(bytes.NewReader(data))
	// A read of part of group 0 reads at most its column chunks and its
	// page index (which the reader needs to find the pages).
	rg0 := pf.MetaData().RowGroup(0)
	group0 := rg0.TotalCompressedSize()
	for c := range rg0.NumColumns() {
		cc, _ := rg0.ColumnChunk(c)
		for _, loc := range []*metadata.IndexLocation{cc.GetOffsetIndexLocation(), cc.GetColumnIndexLocation()} {
			if loc == nil {
				t.Fatalf("column %d of group 0 has no page index", c)
			}
			group0 += int64(loc.Length)
		}
	}
	pf.Close()

	const (
		minI = math.MinInt64
		maxI = math.MaxInt64
	)
	ts := segmenttest.TS
	f := func(name string, from, to, since, until, limit, wantFirst, wantN, maxRead int64) {
		t.Helper()
		cr.n.Store(0)
		recs, err := r.ReadRange(context.Background(), from, to, since, until, limit)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer segmenttest.Release(recs)
		next, n := wantFirst, int64(0)
		for _, rec := range recs {
			if !rec.Schema().Equal(segmenttest.DemoSchema()) {
				t.Fatalf("%s: schema %s", name, rec.Schema())
			}
			ids := rec.Column(0).(*array.Int64)
			vals := rec.Column(7).(*array.Float64)
			for i := range ids.Len() {
				if ids.Value(i) != next {
					t.Fatalf("%s: row %d has id %d, want %d", name, n, ids.Value(i), next)
				}
				if vals.Value(i) != segmenttest.Value(next) {
					t.Fatalf("%s: id %d has value %v", name, next, vals.Value(i))
				}
				next++
				n++
			}
		}
		if n != wantN {
			t.Fatalf("%s: %d rows, want %d", name, n, wantN)
		}
		if maxRead > 0 && cr.n.Load() > maxRead {
			t.Fatalf("%s: read %d bytes of %d, want at most %d", name, cr.n.Load(), len(data), maxRead)
		}
	}
	f("one group", 1000, 2000, minI, maxI, 0, 1000, 1000, group0)
	// An "unlimited" limit once overflowed lo+limit and read nothing.
	f("huge limit", 1000, 2000, minI, maxI, maxI, 1000, 1000, group0)
	f("huge limit, open end", 299_000, maxI, minI, maxI, maxI, 299_000, 1000, 0)
	f("ts range", minI, maxI, ts(1500), ts(2100), 0, 1500, 600, group0)
	f("ids and ts", 1000, 2000, ts(1500), maxI, 0, 1500, 500, group0)
	f("limit across groups", 130000, 140000, minI, maxI, 5000, 130000, 5000, 0)
	f("limit", minI, maxI, minI, maxI, 10, 0, 10, group0)
	f("all", minI, maxI, minI, maxI, 0, 0, rows, 0)
	f("tail", rows-5, maxI, minI, maxI, 0, rows-5, 5, int64(len(data))/4)
	f("ts tail", minI, maxI, ts(rows-1), maxI, 0, rows-3, 3, int64(len(data))/4)
	f("empty ids", 5, 5, minI, maxI, 0, 5, 0, 1)
	f("past the end", rows, maxI, minI, maxI, 0, rows, 0, 1)
	f("ts before", minI, maxI, minI, ts(0), 0, 0, 0, 1)
	f("ts after", minI, maxI, ts(rows-1)+1, maxI, 0, 0, 0, 1)
	f("ts between rows", 10, 20, ts(12)+1, ts(12)+1, 0, 0, 0, 0)
}

// nestedSchema has a payload of nested and parameterised types.
func nestedRecord(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	payload := []arrow.Field{
		{Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "point", Type: arrow.StructOf(
			arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64},
			arrow.Field{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
		), Nullable: true},
		{Name: "country", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "price", Type: &arrow.Decimal128Type{Precision: 18, Scale: 4}, Nullable: true},
	}
	s := arrow.NewSchema(append(segment.SystemFields(), payload...), nil)
	const doc = `[
	{"_id": 10, "_ts": "2026-11-23T00:00:00Z", "_event": "a", "_sub": "x", "_tenant": 3, "tags": [1, 2], "point": {"x": 1.5, "label": "p"}, "country": "fr", "at": "2026-11-23T00:00:00.000001Z", "price": "12.3400"},
	{"_id": 11, "_ts": "2026-11-23T00:00:00Z", "_event": "b", "_sub": null, "_tenant": null, "tags": null, "point": null, "country": null, "at": null, "price": null},
	{"_id": 12, "_ts": "2026-11-23T00:00:01Z", "_event": "c", "_sub": "y", "_tenant": 0, "tags": [], "point": {"x": -2, "label": null}, "country": "fr", "at": "1970-01-01T00:00:00Z", "price": "-0.0001"}
	]`
	rec, _, err := array.RecordFromJSON(mem, s, bytes.NewReader([]byte(doc)))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestNestedTypesRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer assertNoLeak(t, mem)
	rec := nestedRecord(t, mem)
	defer rec.Release()
	var buf bytes.Buffer
	if _, err := segment.Write(&buf, rec.Schema(), []arrow.RecordBatch{rec}, segment.WriterOptions{Allocator: mem}); err != nil {
		t.Fatal(err)
	}
	r, err := segment.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := r.ReadRange(context.Background(), math.MinInt64, math.MaxInt64, math.MinInt64, math.MaxInt64, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer segmenttest.Release(recs)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	if !array.RecordEqual(recs[0], rec) {
		t.Fatalf("round trip differs:\n got %v\nwant %v\nschemas\n%s\n%s", recs[0], rec, recs[0].Schema(), rec.Schema())
	}
	// A slice from the middle keeps the types too.
	mid, err := r.ReadRange(context.Background(), 11, 12, math.MinInt64, math.MaxInt64, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer segmenttest.Release(mid)
	want := rec.NewSlice(1, 2)
	defer want.Release()
	if len(mid) != 1 || !array.RecordEqual(mid[0], want) {
		t.Fatalf("slice differs: %v", mid)
	}
}

func TestWriteRejects(t *testing.T) {
	mem := memory.DefaultAllocator
	good := segmenttest.DemoBatches(mem, 0, 10, 5)
	defer segmenttest.Release(good)
	gap := segmenttest.DemoBatches(mem, 20, 5, 5) // ids 20.. after 0..9: not dense
	defer segmenttest.Release(gap)
	other := arrow.NewSchema(segment.SystemFields()[:4], nil)

	var back arrow.RecordBatch // ts going back: ids 0..4 then a batch 5..9 with old ts
	{
		b := array.NewRecordBuilder(mem, segmenttest.DemoSchema())
		defer b.Release()
		for id := int64(5); id < 10; id++ {
			b.Field(0).(*array.Int64Builder).Append(id)
			b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(segmenttest.BaseTS - 1))
			b.Field(2).(*array.StringBuilder).Append("e")
			for i := 3; i < 8; i++ {
				b.Field(i).AppendNull()
			}
		}
		back = b.NewRecordBatch()
		defer back.Release()
	}

	for _, tc := range []struct {
		name string
		s    *arrow.Schema
		recs []arrow.RecordBatch
	}{
		{"no records", segmenttest.DemoSchema(), nil},
		{"missing system column", other, nil},
		{"schema mismatch", arrow.NewSchema(segment.SystemFields(), nil), good},
		{"ids not dense", segmenttest.DemoSchema(), []arrow.RecordBatch{good[0], gap[0]}},
		{"ts going back", segmenttest.DemoSchema(), []arrow.RecordBatch{good[0], back}},
	} {
		var buf bytes.Buffer
		if _, err := segment.Write(&buf, tc.s, tc.recs, segment.WriterOptions{}); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestOpenCorrupt(t *testing.T) {
	data, _ := writeDemo(t, memory.DefaultAllocator, 100, 100, segment.WriterOptions{})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated", data[:len(data)-10]},
		{"garbage", bytes.Repeat([]byte("x"), 100)},
	} {
		if _, err := segment.Open(bytes.NewReader(tc.data), int64(len(tc.data)), nil); !errors.Is(err, base.ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", tc.name, err)
		}
	}
}

// readAll opens the segment in data and reads every row of it; the caller
// releases the records.
func readAll(t *testing.T, data []byte, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	r, err := segment.Open(bytes.NewReader(data), int64(len(data)), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := r.ReadRange(context.Background(), math.MinInt64, math.MaxInt64, math.MinInt64, math.MaxInt64, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
