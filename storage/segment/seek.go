package segment

import (
	"context"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/internal/retype"
)

const (
	// readBufferSize is the read buffer of a column chunk: about a page
	// after compression, so a seek read touches little more than the
	// pages it decodes.
	readBufferSize = 64 << 10
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
	rr, err := r.fr.GetRecordReader(ctx, r.leaves, []int{i})
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
			ts, ok := rec.Column(1).(*array.Timestamp)
			if !ok {
				return fail(base.Errorf(base.ErrCorrupt, "%s is %s", base.ColTS, rec.Column(1).DataType()))
			}
			ch := arrow.NewChunked(ts.DataType(), []arrow.Array{ts})
			a, b = tsWindow(ch, 0, n, sinceMs, untilMs)
			ch.Release()
			// _ts never decreases: past untilMs in this batch, past it for good.
			done = b < n
		}
		b = a + min(b-a, limit-got)
		if a < b {
			sl := rec.NewSlice(a, b)
			o, err := retype.RebindRecord(sl, r.schema) // nested labels differ after Parquet; the data is the same
			sl.Release()
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
