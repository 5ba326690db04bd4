package retype

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Conform returns rec's rows under schema s, matching columns by name: a
// column of s that rec lacks is all nulls (it must be nullable: a stream's
// schema only grows by nullable typed columns, so records and segments
// written before a column existed lack it), a column present in both is
// relabelled with Rebind, and a column of rec that s lacks is an error, as
// is a column whose type has another physical layout. rec itself, retained,
// is returned when its schema equals s. The result must be Released.
func Conform(rec arrow.RecordBatch, s *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	have := rec.Schema()
	if have.Equal(s) {
		rec.Retain()
		return rec, nil
	}
	cols := make([]arrow.Array, s.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	matched := 0
	n := int(rec.NumRows())
	for i, f := range s.Fields() {
		idx := have.FieldIndices(f.Name)
		if len(idx) == 0 {
			if !f.Nullable {
				return nil, fmt.Errorf("retype: record lacks the non-nullable column %q", f.Name)
			}
			cols[i] = array.MakeArrayOfNull(mem, f.Type, n)
			continue
		}
		matched++
		c := rec.Column(idx[0])
		if c.DataType().ID() != f.Type.ID() {
			return nil, fmt.Errorf("retype: column %q is %s, want %s", f.Name, c.DataType(), f.Type)
		}
		r, err := Rebind(c, f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		cols[i] = r
	}
	if matched != have.NumFields() {
		return nil, fmt.Errorf("retype: record has %d columns that the schema lacks", have.NumFields()-matched)
	}
	return array.NewRecordBatch(s, cols, rec.NumRows()), nil
}
