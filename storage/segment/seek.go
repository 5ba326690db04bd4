package segment

import (
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/internal/retype"
)

const (
	// readBufferSize is the initial read buffer of a column chunk: the
	// reader grows it to a page when a page is larger, and small columns
	// (_ts, _event, _sub, _tenant compress to a few KiB a page) never need
	// more. Every read makes these buffers afresh, one per column: at
	// 64 KiB they were most of a seek read's garbage (BenchmarkReadLayout:
	// 624 -> 522 KB/op at 16 KiB).
	readBufferSize = 16 << 10
	// maxSeekBatch caps the rows a seek read decodes per record batch.
	maxSeekBatch = 64 << 10
)

// hasOffsetIndex reports whether every column chunk of rg has an offset
// index (page locations and first rows), which seek reads need to jump to a
// page. Segments written before the page index was enabled have none.
func hasOffsetIndex(rg *metadata.RowGroupMetaData) bool {
	for c := range rg.NumColumns() {
		cc, err := rg.ColumnChunk(c)
		if err != nil || cc.GetOffsetIndexLocation() == nil {
			return false
		}
	}
	return rg.NumColumns() > 0
}

// seekGroup is readGroup for a part of a row group with an offset index:
// every column jumps to the page holding row lo (skipping the values
// before it in that page only) and decodes in batches about the window's
// size until the window, the ts range or the limit is done. The rows of a
// 1,000-row window are thus read from a page or two per column, whatever
// the size of the group.
func (r *Reader) seekGroup(ctx context.Context, i int, lo, hi, sinceMs, untilMs, limit int64) ([]arrow.RecordBatch, error) {
	g := r.groups[i]
	tsOpen := sinceMs <= g.minTS && untilMs > g.maxTS
	if limit > 0 && tsOpen {
		hi = lo + min(hi-lo, limit) // lo+limit would overflow for a huge limit
	}
	if limit <= 0 {
		limit = math.MaxInt64
	}
	// The batch size is a property of the file reader, read when a record
	// reader is made; r.mu is held, so setting it here races with nothing.
	r.fr.Props.BatchSize = min(hi-lo, maxSeekBatch)
	// _id is not read: it is dense (firstID+row), so it is made from the
	// row numbers, which saves decoding and skipping a column per read.
	// Nor are the columns that hold only nulls or one text value in this
	// group (statistics say so): they are made too. _ts is always read,
	// and first.
	leaves := make([]int, 0, len(r.leaves))
	for _, c := range r.leaves[1:] {
		if !r.made(g, c) {
			leaves = append(leaves, c)
		}
	}
	rr, err := r.fr.GetRecordReader(ctx, leaves, []int{i})
	if err != nil {
		return nil, base.Errorf(base.ErrCorrupt, "segment: cannot read row group %d: %w", i, err)
	}
	defer rr.Release()
	var out []arrow.RecordBatch
	fail := func(err error) ([]arrow.RecordBatch, error) {
		for _, rec := range out {
			rec.Release()
		}
		return nil, base.Errorf(base.ErrCorrupt, "segment: row group %d: %w", i, err)
	}
	if err := rr.SeekToRow(lo); err != nil {
		return fail(err)
	}
	var got int64
	for pos := lo; pos < hi && got < limit; {
		if err := ctx.Err(); err != nil {
			for _, rec := range out {
				rec.Release()
			}
			return nil, err
		}
		if !rr.Next() {
			if err := rr.Err(); err != nil {
				return fail(err)
			}
			return fail(base.Errorf(base.ErrCorrupt, "ends at row %d, its footer says %d", pos, g.rows))
		}
		rec := rr.RecordBatch()
		n := min(rec.NumRows(), hi-pos)
		a, b := int64(0), n
		done := false
		if !tsOpen {
			ts, ok := rec.Column(0).(*array.Timestamp) // _ts: _id is not read
			if !ok {
				return fail(base.Errorf(base.ErrCorrupt, "%s is %s", base.ColTS, rec.Column(0).DataType()))
			}
			ch := arrow.NewChunked(ts.DataType(), []arrow.Array{ts})
			a, b = tsWindow(ch, 0, n, sinceMs, untilMs)
			ch.Release()
			// _ts never decreases: past untilMs in this batch, past it for good.
			done = b < n
		}
		b = a + min(b-a, limit-got)
		if a < b {
			o, err := r.assemble(rec, a, b, g.firstID+pos+a, g)
			if err != nil {
				return fail(err)
			}
			out = append(out, o)
			got += b - a
		}
		pos += rec.NumRows()
		if done {
			break
		}
	}
	return out, nil
}

// assemble returns rows [a, b) of rec, a record of the columns read, with
// the columns not read made: _id (firstID upwards), the all-null and the
// constant ones of group g, under the stored schema. The schema is flat
// here (seek reads need it), so field c is leaf column c.
func (r *Reader) assemble(rec arrow.RecordBatch, a, b, firstID int64, g group) (arrow.RecordBatch, error) {
	n := b - a
	sl := rec.NewSlice(a, b)
	defer sl.Release()
	cols := make([]arrow.Array, r.schema.NumFields())
	fields := make([]arrow.Field, len(cols))
	made := make([]arrow.Array, 0, 4)
	defer func() {
		for _, m := range made {
			m.Release()
		}
	}()
	next := 0
	for c := range cols {
		f := r.schema.Field(c)
		switch {
		case c == 0:
			cols[c] = r.ids(firstID, n)
			made = append(made, cols[c])
		case r.made(g, c):
			if g.allNull[c] {
				cols[c] = array.MakeArrayOfNull(r.mem, f.Type, int(n))
			} else {
				cols[c] = r.repeat(g.constant[c], n)
			}
			made = append(made, cols[c])
		default:
			if next >= int(sl.NumCols()) {
				return nil, fmt.Errorf("segment: read %d columns, the schema wants more", sl.NumCols())
			}
			cols[c], f = sl.Column(next), sl.Schema().Field(next)
			next++
		}
		fields[c] = f
	}
	whole := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, n)
	defer whole.Release()
	// Nested labels differ after Parquet; the data is the same.
	return retype.RebindRecord(whole, r.schema)
}

// ids returns the _id column of n rows from firstID upwards.
func (r *Reader) ids(firstID, n int64) arrow.Array {
	buf := memory.NewResizableBuffer(r.mem)
	buf.Resize(int(n) * 8)
	vals := arrow.Int64Traits.CastFromBytes(buf.Bytes())
	for k := range vals {
		vals[k] = firstID + int64(k)
	}
	data := array.NewData(arrow.PrimitiveTypes.Int64, int(n), []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	defer data.Release()
	return array.NewInt64Data(data)
}

// repeat returns a utf8 column of n rows that all hold v.
func (r *Reader) repeat(v []byte, n int64) arrow.Array {
	b := array.NewStringBuilder(r.mem)
	defer b.Release()
	b.Reserve(int(n))
	b.ReserveData(int(n) * len(v))
	s := string(v)
	for range n {
		b.Append(s)
	}
	return b.NewArray()
}

// made reports whether a seek read of group g makes field c (c > 0)
// rather than reading it: a field that is leaf c (before any struct), not
// _ts, and all null in g, or a plain utf8 field of one value in g (a
// dictionary or large_utf8 one is read: repeat builds utf8).
func (r *Reader) made(g group, c int) bool {
	if c <= 1 || c >= r.direct {
		return false
	}
	return g.allNull[c] || (g.constant[c] != nil && r.schema.Field(c).Type.ID() == arrow.STRING)
}
