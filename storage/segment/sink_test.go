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
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// textRecords returns records of s (system columns, then "tag" utf8
// nullable, and "extra" if s has it) holding rows rows in records of 1,000:
// _event is "ev-<id%7>", or a dictionary whose values include ones no row
// uses ("zzz", "aaa"), in every other record; tag is null on every third
// row, else "t<id%5+2*record>". It returns the rows' _event and tag values
// ("" for null) too.
func textRecords(t *testing.T, mem memory.Allocator, s *arrow.Schema, rows int64) ([]arrow.RecordBatch, []string, []string) {
	t.Helper()
	var recs []arrow.RecordBatch
	var events, tags []string
	for lo := int64(0); lo < rows; lo += 1000 {
		rec := int(lo / 1000)
		n := min(1000, rows-lo)
		cols := make([]arrow.Array, s.NumFields())
		ids := array.NewInt64Builder(mem)
		tss := array.NewTimestampBuilder(mem, s.Field(1).Type.(*arrow.TimestampType))
		ev := array.NewStringBuilder(mem)
		sub := array.NewStringBuilder(mem)
		ten := array.NewUint32Builder(mem)
		tag := array.NewStringBuilder(mem)
		for id := lo; id < lo+n; id++ {
			ids.Append(id)
			tss.Append(arrow.Timestamp(segmenttest.TS(id)))
			e := fmt.Sprintf("ev-%d", id%7)
			ev.Append(e)
			events = append(events, e)
			sub.AppendNull()
			ten.AppendNull()
			if id%3 == 0 {
				tag.AppendNull()
				tags = append(tags, "")
			} else {
				v := fmt.Sprintf("t%d", id%5+2*int64(rec))
				tag.Append(v)
				tags = append(tags, v)
			}
		}
		cols[0], cols[1], cols[2], cols[3], cols[4], cols[5] = ids.NewArray(), tss.NewArray(), ev.NewArray(), sub.NewArray(), ten.NewArray(), tag.NewArray()
		for _, bl := range []interface{ Release() }{ids, tss, ev, sub, ten, tag} {
			bl.Release()
		}
		if s.NumFields() > 6 { // a nested column: list<int64>, empty lists
			lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int64)
			for range n {
				lb.Append(true)
			}
			cols[6] = lb.NewArray()
			lb.Release()
		}
		fields := s.Fields()
		if rec%2 == 1 { // _event as a dictionary with unused values
			fields[2].Type = eventDict
			db := array.NewDictionaryBuilder(mem, eventDict).(*array.BinaryDictionaryBuilder)
			unused := array.NewStringBuilder(mem)
			unused.AppendValues([]string{"zzz", "aaa"}, nil)
			ua := unused.NewStringArray()
			unused.Release()
			err := db.InsertStringDictValues(ua)
			ua.Release()
			if err != nil {
				t.Fatal(err)
			}
			src := cols[2].(*array.String)
			for i := range src.Len() {
				if err := db.AppendString(src.Value(i)); err != nil {
					t.Fatal(err)
				}
			}
			cols[2].Release()
			cols[2] = db.NewArray()
			db.Release()
		}
		recs = append(recs, array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, n))
		for _, c := range cols {
			c.Release()
		}
	}
	return recs, events, tags
}

// TestTextStatistics: each row group's text columns carry exactly the
// min, max, null and value counts of their rows, whether the text came as
// plain strings or as dictionaries holding values no row uses, through
// both ways of writing (flat schema; schema with a nested column).
func TestTextStatistics(t *testing.T) {
	base := append(segment.SystemFields(), arrow.Field{Name: "tag", Type: arrow.BinaryTypes.String, Nullable: true})
	for _, c := range []struct {
		name   string
		schema *arrow.Schema
	}{
		{"flat", arrow.NewSchema(base, nil)},
		{"nested", arrow.NewSchema(append(base, arrow.Field{Name: "extra", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true}), nil)},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer assertNoLeak(t, mem)
			const rows, rg = 10_000, 4096
			recs, events, tags := textRecords(t, mem, c.schema, rows)
			defer segmenttest.Release(recs)
			var buf bytes.Buffer
			if _, err := segment.Write(&buf, c.schema, recs, segment.WriterOptions{RowGroupRows: rg, Allocator: mem}); err != nil {
				t.Fatal(err)
			}
			pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			md := pf.MetaData()
			for g := range md.NumRowGroups() {
				lo, hi := g*rg, min((g+1)*rg, rows)
				for col, vals := range map[int][]string{2: events[lo:hi], 5: tags[lo:hi]} {
					cc, err := md.RowGroup(g).ColumnChunk(col)
					if err != nil {
						t.Fatal(err)
					}
					st, err := cc.Statistics()
					if err != nil {
						t.Fatal(err)
					}
					bs := st.(*metadata.ByteArrayStatistics)
					wantMin, wantMax, nulls := "", "", int64(0)
					for _, v := range vals {
						switch {
						case v == "":
							nulls++
						case wantMin == "":
							wantMin, wantMax = v, v
						default:
							wantMin, wantMax = min(wantMin, v), max(wantMax, v)
						}
					}
					got := fmt.Sprintf("min %q max %q nulls %d values %d", bs.Min(), bs.Max(), bs.NullCount(), bs.NumValues())
					want := fmt.Sprintf("min %q max %q nulls %d values %d", wantMin, wantMax, nulls, int64(len(vals))-nulls)
					if !bs.HasMinMax() || got != want {
						t.Errorf("row group %d column %d: %s, want %s", g, col, got, want)
					}
				}
			}
			// And the rows read back.
			r, err := segment.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), mem)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := r.ReadRange(context.Background(), 0, math.MaxInt64, math.MinInt64, math.MaxInt64, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer segmenttest.Release(got)
			k := 0
			for _, g := range got {
				ev, tg := g.Column(2).(*array.String), g.Column(5).(*array.String)
				for i := range int(g.NumRows()) {
					gotTag := ""
					if tg.IsValid(i) {
						gotTag = tg.Value(i)
					}
					if ev.Value(i) != events[k] || gotTag != tags[k] {
						t.Fatalf("row %d: %q %q, want %q %q", k, ev.Value(i), gotTag, events[k], tags[k])
					}
					k++
				}
			}
			if k != rows {
				t.Fatalf("read %d rows, want %d", k, rows)
			}
		})
	}
}
