package engine

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/segment"
)

// A stream of single events buffers one batch per event. Written to Parquet
// one by one, each such batch costs the writer a call per column (about
// 15k rows/s in all), so the flush merges runs of small batches into
// records of up to coalesceMaxRows rows first, building their system
// columns in one go.
const (
	coalesceBelowRows = 1024                            // batches with fewer rows are merged
	coalesceMaxRows   = 4 * segment.DefaultRowGroupRows // rows per merged record: a few row groups
	// coalesceMaxBytes bounds the bodies merged into one record, far below
	// what the int32 offsets of its binary columns can address.
	coalesceMaxBytes = 256 << 20
)

// mergeable reports whether b's payload columns are all columns of stored,
// of the same types, so that its rows can be merged with others into
// records of the flush schema.
func mergeable(b *Batch, stored *arrow.Schema) bool {
	if b.Rows >= coalesceBelowRows {
		return false
	}
	if b.raw != nil {
		// Untyped events: every stored schema of a stream of events
		// starts its payload with eventsPayload's columns.
		return true
	}
	ps := b.payload.Schema()
	for i := range ps.NumFields() {
		f := ps.Field(i)
		idx := stored.FieldIndices(f.Name)
		if len(idx) != 1 || !arrow.TypeEqual(stored.Field(idx[0]).Type, f.Type) {
			return false
		}
	}
	return true
}

// mergeBatches returns the rows of batches, consecutive and mergeable, as
// one record of flushed (the flush form of the stored schema: system
// columns, then the payload; a batch lacking a payload column gets nulls
// there). The caller releases it.
func mergeBatches(batches []*Batch, flushed *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	n := 0
	for _, b := range batches {
		n += int(b.Rows)
	}
	ids := make([]int64, n)
	ts := make([]int64, n)
	events := make([]int32, n)
	dict := array.NewStringBuilder(mem)
	defer dict.Release()
	seen := make(map[string]int32)
	tenants := false
	row := 0
	for _, b := range batches {
		code, ok := seen[b.Event]
		if !ok {
			code = int32(len(seen))
			seen[b.Event] = code
			dict.Append(b.Event)
		}
		for i := range int(b.Rows) {
			ids[row] = b.FirstID + int64(i)
			ts[row] = b.TS
			events[row] = code
			row++
		}
		tenants = tenants || b.Tenant != 0
	}
	cols := make([]arrow.Array, 0, flushed.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	cols = append(cols, fixedArray(arrow.PrimitiveTypes.Int64, n, int64Bytes(ids)))
	cols = append(cols, fixedArray(flushed.Field(1).Type, n, int64Bytes(ts)))
	values := dict.NewArray()
	indices := fixedArray(arrow.PrimitiveTypes.Int32, n, int32Bytes(events))
	cols = append(cols, array.NewDictionaryArray(eventDictType, indices, values))
	values.Release()
	indices.Release()
	if sub := batches[0].Sub; sub != "" {
		cols = append(cols, constString(sub, n))
	} else {
		cols = append(cols, array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, n))
	}
	if tenants {
		tb := array.NewUint32Builder(mem)
		for _, b := range batches {
			for range int(b.Rows) {
				if b.Tenant == 0 {
					tb.AppendNull()
				} else {
					tb.Append(b.Tenant)
				}
			}
		}
		cols = append(cols, tb.NewArray())
		tb.Release()
	} else {
		cols = append(cols, array.MakeArrayOfNull(mem, arrow.PrimitiveTypes.Uint32, n))
	}
	if allRaw(batches) {
		cols = appendRawColumns(cols, batches, flushed, n, mem)
		return array.NewRecordBatch(flushed, cols, int64(n)), nil
	}
	parts := make([]arrow.Array, len(batches))
	for c := len(cols); c < flushed.NumFields(); c++ {
		f := flushed.Field(c)
		for i, b := range batches {
			payload := b.payloadRecord()
			if idx := payload.Schema().FieldIndices(f.Name); len(idx) == 1 {
				parts[i] = payload.Column(idx[0])
				parts[i].Retain()
			} else {
				parts[i] = array.MakeArrayOfNull(mem, f.Type, int(b.Rows))
			}
		}
		col, err := array.Concatenate(parts, mem)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			return nil, fmt.Errorf("merging column %s of %d batches: %w", f.Name, len(batches), err)
		}
		cols = append(cols, col)
	}
	return array.NewRecordBatch(flushed, cols, int64(n)), nil
}

func allRaw(batches []*Batch) bool {
	for _, b := range batches {
		if b.raw == nil {
			return false
		}
	}
	return true
}

// appendRawColumns appends the payload columns of flushed for n rows of
// raw batches (untyped events): their content types and data, read
// straight from the logged form, and nulls in any typed column.
func appendRawColumns(cols []arrow.Array, batches []*Batch, flushed *arrow.Schema, n int, mem memory.Allocator) []arrow.Array {
	raws := make([][]byte, len(batches))
	flags := make([]bool, len(batches))
	for i, b := range batches {
		raws[i], flags[i] = b.raw, b.flags
	}
	ct, data := rawColumns(raws, flags, n)
	defer ct.Release()
	defer data.Release()
	for c := len(cols); c < flushed.NumFields(); c++ {
		switch f := flushed.Field(c); f.Name {
		case base.ColContentType:
			ct.Retain()
			cols = append(cols, ct)
		case base.ColData:
			data.Retain()
			cols = append(cols, data)
		default:
			cols = append(cols, array.MakeArrayOfNull(mem, f.Type, n))
		}
	}
	return cols
}
