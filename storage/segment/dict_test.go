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
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// TestStringColumns checks utf8 columns through Write's own dictionary
// encoding: nulls, a low-cardinality row group (dictionary-encoded) and a
// high-cardinality one (over the dictionary limit, written as plain strings),
// with records that straddle row groups.
func TestStringColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer assertNoLeak(t, mem)
	const rows, group = 40_000, 20_000
	name := func(id int64) (string, bool) {
		switch {
		case id >= group:
			return fmt.Sprintf("user-%d", id), true // 20000 distinct values
		case id%5 == 0:
			return "", false
		default:
			return fmt.Sprintf("v%d", id%7), true
		}
	}
	s := arrow.NewSchema(append(segment.SystemFields(),
		arrow.Field{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true}), nil)
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	var recs []arrow.RecordBatch
	for lo := int64(0); lo < rows; lo += 7000 {
		for id := lo; id < min(lo+7000, rows); id++ {
			b.Field(0).(*array.Int64Builder).Append(id)
			b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(segmenttest.TS(id)))
			b.Field(2).(*array.StringBuilder).Append("e")
			if id%3 == 0 {
				b.Field(3).(*array.StringBuilder).Append("sub")
			} else {
				b.Field(3).AppendNull()
			}
			b.Field(4).AppendNull()
			if v, ok := name(id); ok {
				b.Field(5).(*array.StringBuilder).Append(v)
			} else {
				b.Field(5).AppendNull()
			}
		}
		recs = append(recs, b.NewRecordBatch())
	}
	defer segmenttest.Release(recs)
	var buf bytes.Buffer
	if _, err := segment.Write(&buf, s, recs, segment.WriterOptions{RowGroupRows: group, Allocator: mem}); err != nil {
		t.Fatal(err)
	}

	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(5)
	if err != nil {
		t.Fatal(err)
	}
	dictEncoded := false
	for _, e := range cc.Encodings() {
		dictEncoded = dictEncoded || e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict
	}
	if !dictEncoded {
		t.Errorf("row group 0: name encodings %v, want a dictionary", cc.Encodings())
	}
	pf.Close()

	r, err := segment.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Schema().Equal(s) {
		t.Fatalf("schema %s, want %s", r.Schema(), s)
	}
	got, err := r.ReadRange(context.Background(), math.MinInt64, math.MaxInt64, math.MinInt64, math.MaxInt64, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer segmenttest.Release(got)
	var id int64
	for _, rec := range got {
		subs := rec.Column(3).(*array.String)
		names := rec.Column(5).(*array.String)
		for i := range int(rec.NumRows()) {
			want, ok := name(id)
			if names.IsValid(i) != ok || ok && names.Value(i) != want {
				t.Fatalf("id %d: name %q (valid %t), want %q (valid %t)", id, names.Value(i), names.IsValid(i), want, ok)
			}
			if subs.IsValid(i) != (id%3 == 0) {
				t.Fatalf("id %d: _sub valid %t", id, subs.IsValid(i))
			}
			id++
		}
	}
	if id != rows {
		t.Fatalf("read %d rows, want %d", id, rows)
	}
}
