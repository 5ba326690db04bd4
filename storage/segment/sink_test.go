package segment_test

import (
	"bytes"
	"fmt"
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
			got := readAll(t, buf.Bytes(), mem)
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

// TestFlatTypesRoundTrip: a flat schema of every kind of column the
// writer drives itself (flatTypes), with nulls, reads back as written.
func TestFlatTypesRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer assertNoLeak(t, mem)
	payload := []arrow.Field{
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "fsb", Type: &arrow.FixedSizeBinaryType{ByteWidth: 3}, Nullable: true},
		{Name: "d32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "t32", Type: arrow.FixedWidthTypes.Time32ms, Nullable: true},
		{Name: "t64", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 18, Scale: 4}, Nullable: true},
	}
	s := arrow.NewSchema(append(segment.SystemFields(), payload...), nil)
	const doc = `[
	{"_id": 0, "_ts": "2026-11-23T00:00:00Z", "_event": "a", "_sub": "x", "_tenant": 3, "b": true, "i8": -8, "i16": 16, "i32": -32, "u8": 8, "u16": 16, "u64": 18446744073709551615, "f32": 1.5, "f64": -2.25, "s": "héllo", "bin": "AAEC", "ls": "large", "fsb": "YWJj", "d32": "2026-11-23", "t32": "01:02:03.004", "t64": "01:02:03.000004", "at": "2026-11-23T00:00:00.000001Z", "dec": "12.3400"},
	{"_id": 1, "_ts": "2026-11-23T00:00:00Z", "_event": "b", "_sub": null, "_tenant": null, "b": null, "i8": null, "i16": 0, "i32": null, "u8": null, "u16": null, "u64": null, "f32": null, "f64": 0, "s": null, "bin": null, "ls": null, "fsb": null, "d32": null, "t32": null, "t64": null, "at": null, "dec": null},
	{"_id": 2, "_ts": "2026-11-23T00:00:01Z", "_event": "a", "_sub": "y", "_tenant": 0, "b": false, "i8": 127, "i16": -1, "i32": 0, "u8": 255, "u16": 65535, "u64": 0, "f32": -0.5, "f64": 1e300, "s": "", "bin": "", "ls": "", "fsb": "eHl6", "d32": "1970-01-01", "t32": "00:00:00", "t64": "23:59:59.999999", "at": "1970-01-01T00:00:00Z", "dec": "-0.0001"}
	]`
	rec, _, err := array.RecordFromJSON(mem, s, bytes.NewReader([]byte(doc)))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	var buf bytes.Buffer
	if _, err := segment.Write(&buf, s, []arrow.RecordBatch{rec}, segment.WriterOptions{Allocator: mem}); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, buf.Bytes(), mem)
	defer segmenttest.Release(got)
	if len(got) != 1 || !array.RecordEqual(got[0], rec) {
		t.Fatalf("round trip differs:\n got %v\nwant %v", got, rec)
	}
}
