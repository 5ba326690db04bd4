package segment

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Why this file exists: handed a dictionary column, pqarrow computes its
// page statistics by running compute.UniqueArray over every index of the
// row group (to find the dictionary values the rows use), unless the
// dictionary is the very object it already holds, which it never is
// through pqarrow.FileWriter (it slices each chunk, and each slice makes
// its own dictionary object). That hash pass was an eighth of the flush's
// CPU. Our row-group dictionaries hold exactly the values their rows use
// (dictBuilder), so their min/max are the column's. flatSink therefore
// drives the Parquet column writers itself: dictionary columns get the
// dictionary, statistics from the dictionary and the indices; every other
// column goes through pqarrow.WriteArrowToColumn as before. It needs the
// definition levels, which it computes for top-level columns of flat types
// only; a schema with a nested column is written through pqarrow.FileWriter
// (arrowSink), which computes them, at the old cost.

// sink writes a segment's row groups column by column, in schema order.
type sink interface {
	newRowGroup() error
	// writeChunks writes rows [off, off+n) of chunks as the next column.
	writeChunks(col int, chunks []arrow.Array, off, n int64) error
	// writeDict writes d (built by dictBuilder) as the next column.
	writeDict(col int, d *array.Dictionary) error
	close() error
}

// flatTypes reports whether every field of s is of a flat type: written as
// one Parquet leaf with definition levels 0/1, which flatSink computes.
func flatTypes(s *arrow.Schema) bool {
	for _, f := range s.Fields() {
		switch f.Type.ID() {
		case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
			arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
			arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
			arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY,
			arrow.FIXED_SIZE_BINARY, arrow.DATE32, arrow.DATE64,
			arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64, arrow.DECIMAL128, arrow.DECIMAL256:
		default:
			return false
		}
	}
	return true
}

// newSink returns the sink for schema s written as phys (s with its utf8
// fields dictionary-typed), storing the serialised s as ARROW:schema.
func newSink(s, phys *arrow.Schema, w io.Writer, props *parquet.WriterProperties, pageRows int64, storedSchema string, mem memory.Allocator) (sink, error) {
	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem))
	if !flatTypes(s) {
		fw, err := pqarrow.NewFileWriter(phys, w, props, arrowProps)
		if err != nil {
			return nil, err
		}
		if err := fw.AppendKeyValueMetadata("ARROW:schema", storedSchema); err != nil {
			fw.Close()
			return nil, err
		}
		return &arrowSink{fw: fw, s: s}, nil
	}
	pqs, err := pqarrow.ToParquet(phys, props, arrowProps)
	if err != nil {
		return nil, err
	}
	md := phys.Metadata()
	meta := make(metadata.KeyValueMetadata, 0, md.Len()+1)
	for i, k := range md.Keys() {
		meta.Append(k, md.Values()[i])
	}
	meta.Append("ARROW:schema", storedSchema)
	fw, err := file.NewParquetWriterWithError(w, pqs.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, err
	}
	return &flatSink{fw: fw, s: s, ctx: pqarrow.NewArrowWriteContext(context.Background(), &arrowProps), pageRows: pageRows}, nil
}

// arrowSink writes through pqarrow.FileWriter.
type arrowSink struct {
	fw *pqarrow.FileWriter
	s  *arrow.Schema
}

func (a *arrowSink) newRowGroup() error { return a.fw.NewRowGroupChecked() }

func (a *arrowSink) writeChunks(col int, chunks []arrow.Array, off, n int64) error {
	ch := arrow.NewChunked(a.s.Field(col).Type, chunks)
	defer ch.Release()
	return a.fw.WriteColumnChunked(ch, off, n)
}

func (a *arrowSink) writeDict(_ int, d *array.Dictionary) error {
	ch := arrow.NewChunked(dictType, []arrow.Array{d})
	defer ch.Release()
	return a.fw.WriteColumnChunked(ch, 0, int64(d.Len()))
}

func (a *arrowSink) close() error { return a.fw.Close() }

// flatSink drives the Parquet file and column writers itself.
type flatSink struct {
	fw       *file.Writer
	s        *arrow.Schema
	ctx      context.Context // pqarrow's write context: its scratch buffer
	rgw      file.SerialRowGroupWriter
	def      []int16 // definition levels, reused
	used     []bool  // writeDict: the dictionary codes a page uses, reused
	pageRows int64   // a page of a column ends every pageRows rows (writeChunks)
}

// pageCutter is what flatSink needs of a column writer to end a page at
// a row it chooses; parquet/file's column writers all have it.
type pageCutter interface {
	FlushCurrentPage() error
	EstimatedBufferedValueBytes() int64
}

func (f *flatSink) newRowGroup() error {
	rgw, err := f.fw.AppendRowGroupChecked()
	f.rgw = rgw
	return err
}

// levels returns the definition levels of a: nil for a non-nullable
// field (a required Parquet column has none), else 1 per valid row and 0
// per null.
func (f *flatSink) levels(col int, a arrow.Array) []int16 {
	if !f.s.Field(col).Nullable {
		return nil
	}
	n := a.Len()
	if cap(f.def) < n {
		f.def = make([]int16, n)
	}
	def := f.def[:n]
	switch a.NullN() {
	case 0:
		for i := range def {
			def[i] = 1
		}
	case n: // _sub and _tenant of most streams
		clear(def)
	default:
		bits, off := a.NullBitmapBytes(), a.Data().Offset()
		for i := range def {
			def[i] = int16(bits[(off+i)>>3] >> ((off + i) & 7) & 1)
		}
	}
	return def
}

// writeChunks writes the column in pieces that end every pageRows rows
// of the row group, and ends the page there unless the column is
// dictionary-encoded. arrow-go cuts pages by size only, so a column whose
// values encode to almost nothing (_ts delta-packed, a mostly-null typed
// field) would have one page per row group, and a seek read would decode
// it from the group's start: a read deep into a 128k-row group took
// longer than one near its start, and a stream of big segments read
// slower than a small one (docs/range-reads.md). Dictionary indices are
// left to the size rule: they are cheap to skip.
func (f *flatSink) writeChunks(col int, chunks []arrow.Array, off, n int64) error {
	cw, err := f.rgw.NextColumn()
	if err != nil {
		return err
	}
	cut, _ := cw.(pageCutter)
	switch cw.CurrentEncoder().Encoding() {
	case parquet.Encodings.PlainDict, parquet.Encodings.RLEDict:
		cut = nil
	}
	nullable := f.s.Field(col).Nullable
	pos := int64(0) // rows of this column written
	for _, c := range chunks {
		if n == 0 {
			break
		}
		clen := int64(c.Len())
		if off >= clen {
			off -= clen
			continue
		}
		hi := min(clen, off+n)
		n -= hi - off
		for off < hi {
			end := hi
			if cut != nil {
				end = off + min(hi-off, f.pageRows-pos%f.pageRows)
			}
			part := array.NewSlice(c, off, end)
			err := pqarrow.WriteArrowToColumn(f.ctx, cw, part, f.levels(col, part), nil, nullable)
			part.Release()
			if err != nil {
				return err
			}
			pos += end - off
			off = end
			// A page with no values buffered (arrow-go just cut one by
			// size, or the rows are all null) is not ended: an empty page
			// is invalid, and a null one costs nothing to skip.
			if cut != nil && pos%f.pageRows == 0 && cut.EstimatedBufferedValueBytes() > 0 {
				if err := cut.FlushCurrentPage(); err != nil {
					return err
				}
			}
		}
		off = 0
	}
	return nil
}

// dictEncoder is the part of the column writer's dictionary encoder
// (parquet/internal/encoding.DictEncoder) that writeDict uses.
type dictEncoder interface {
	PutDictionary(arrow.Array) error
	NumEntries() int
}

// writeDict writes d's indices with page statistics from the dictionary,
// a page every pageRows rows (writeChunks says why). pqarrow would hash
// every index to find the values a page uses; here a page's statistics
// come from the codes its rows use, marked in f.used.
func (f *flatSink) writeDict(col int, d *array.Dictionary) error {
	cw, err := f.rgw.NextColumn()
	if err != nil {
		return err
	}
	def := f.levels(col, d)
	enc, ok := cw.CurrentEncoder().(dictEncoder)
	if !ok || cw.CurrentEncoder().Encoding() != parquet.Encodings.PlainDict {
		// No dictionary for this column: pqarrow writes the values.
		return pqarrow.WriteArrowToColumn(f.ctx, cw, d, def, nil, f.s.Field(col).Nullable)
	}
	dict, ok := d.Dictionary().(*array.String)
	if !ok {
		return fmt.Errorf("segment: dictionary of column %s is %s, want utf8", f.s.Field(col).Name, d.Dictionary().DataType())
	}
	if err := enc.PutDictionary(dict); err != nil {
		return err
	}
	if enc.NumEntries() != dict.Len() {
		return fmt.Errorf("segment: dictionary of column %s has repeated values", f.s.Field(col).Name)
	}
	cut, _ := cw.(pageCutter)
	codes := d.Indices().(*array.Int32).Int32Values()
	n := int64(d.Len())
	for lo := int64(0); lo < n; lo += f.pageRows {
		hi := min(n, lo+f.pageRows)
		if st := cw.PageStatistics(); st != nil {
			if err := f.dictStats(st, d, dict, codes, lo, hi); err != nil {
				return err
			}
		}
		part := array.NewSlice(d.Indices(), lo, hi)
		var pdef []int16
		if def != nil {
			pdef = def[lo:hi]
		}
		err := cw.WriteDictIndices(part, pdef, nil)
		part.Release()
		if err != nil {
			return err
		}
		// WriteDictIndices never ends a page by itself (its size rule
		// counts values put, not indices), so this page holds hi-lo rows.
		if hi < n && cut != nil {
			if err := cut.FlushCurrentPage(); err != nil {
				return err
			}
		}
	}
	return nil
}

// dictStats adds to st, the statistics of the page being written, rows
// [lo, hi) of d: their nulls, values, and the smallest and largest value
// they use.
func (f *flatSink) dictStats(st metadata.TypedStatistics, d *array.Dictionary, dict *array.String, codes []int32, lo, hi int64) error {
	bs, ok := st.(*metadata.ByteArrayStatistics)
	if !ok {
		return fmt.Errorf("segment: statistics of a text column are %T", st)
	}
	if cap(f.used) < dict.Len() {
		f.used = make([]bool, dict.Len())
	}
	used := f.used[:dict.Len()]
	clear(used)
	nulls := int64(0)
	for i := lo; i < hi; i++ {
		if d.IsNull(int(i)) {
			nulls++
			continue
		}
		used[codes[i]] = true
	}
	st.IncNulls(nulls)
	st.IncNumValues(hi - lo - nulls)
	var minV, maxV []byte
	first := true
	for code, u := range used {
		if !u {
			continue
		}
		v := []byte(dict.Value(code))
		if first || bytes.Compare(v, minV) < 0 {
			minV = v
		}
		if first || bytes.Compare(v, maxV) > 0 {
			maxV = v
		}
		first = false
	}
	if !first {
		bs.SetMinMax(minV, maxV)
	}
	return nil
}

func (f *flatSink) close() error { return f.fw.Close() }
