package retype

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Concat returns the rows of recs, which share one schema, as one record,
// copied. The caller releases it.
func Concat(recs []arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	s := recs[0].Schema()
	cols := make([]arrow.Array, s.NumFields())
	parts := make([]arrow.Array, len(recs))
	n := int64(0)
	for _, r := range recs {
		n += r.NumRows()
	}
	for c := range cols {
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		col, err := array.Concatenate(parts, mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, err
		}
		cols[c] = col
	}
	rec := array.NewRecordBatch(s, cols, n)
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}
