package segment_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

var eventDict = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// withDictColumn returns rec with its utf8 column col replaced by a
// dictionary<int32, utf8> array of the same values.
func withDictColumn(t *testing.T, rec arrow.RecordBatch, col int) arrow.RecordBatch {
	t.Helper()
	b := array.NewDictionaryBuilder(memory.DefaultAllocator, eventDict).(*array.BinaryDictionaryBuilder)
	defer b.Release()
	s := rec.Column(col).(*array.String)
	for i := 0; i < s.Len(); i++ {
		if s.IsNull(i) {
			b.AppendNull()
		} else if err := b.AppendString(s.Value(i)); err != nil {
			t.Fatal(err)
		}
	}
	d := b.NewArray()
	defer d.Release()
	fields := rec.Schema().Fields()
	fields[col].Type = eventDict
	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[col] = d
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}

// TestWriteDictionaryText: text columns may arrive dictionary-encoded, mixed
// with plain chunks, and read back as the plain values; also when a row
// group has too many distinct values for a dictionary.
func TestWriteDictionaryText(t *testing.T) {
	for _, distinct := range []bool{false, true} {
		t.Run(fmt.Sprintf("distinct=%v", distinct), func(t *testing.T) {
			s := segmenttest.DemoSchema()
			recs := segmenttest.DemoBatches(memory.DefaultAllocator, 0, 40_000, 5000)
			defer segmenttest.Release(recs)
			if distinct { // 40,000 distinct events: over the dictionary limit
				for i, r := range recs {
					b := array.NewStringBuilder(memory.DefaultAllocator)
					for j := 0; j < int(r.NumRows()); j++ {
						b.Append(fmt.Sprintf("event-%d-%d", i, j))
					}
					ev := b.NewArray()
					b.Release()
					cols := append([]arrow.Array(nil), r.Columns()...)
					cols[2] = ev
					recs[i] = array.NewRecordBatch(s, cols, r.NumRows())
					ev.Release()
					r.Release()
				}
			}
			in := make([]arrow.RecordBatch, len(recs))
			for i, r := range recs {
				if i%2 == 0 {
					in[i] = withDictColumn(t, r, 2)
				} else {
					r.Retain()
					in[i] = r
				}
			}
			defer segmenttest.Release(in)
			var buf bytes.Buffer
			if _, err := segment.Write(&buf, s, in, segment.WriterOptions{RowGroupRows: 16384}); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, buf.Bytes(), memory.DefaultAllocator)
			defer segmenttest.Release(got)
			var want []string
			for _, rec := range recs {
				ev := rec.Column(2).(*array.String)
				for i := 0; i < ev.Len(); i++ {
					want = append(want, ev.Value(i))
				}
			}
			k := 0
			for _, g := range got {
				ev, ok := g.Column(2).(*array.String)
				if !ok {
					t.Fatalf("_event reads back as %s", g.Column(2).DataType())
				}
				for i := 0; i < ev.Len(); i++ {
					if ev.Value(i) != want[k] {
						t.Fatalf("row %d: _event %q, want %q", k, ev.Value(i), want[k])
					}
					k++
				}
			}
			if k != len(want) {
				t.Fatalf("read %d rows, want %d", k, len(want))
			}
		})
	}
}
