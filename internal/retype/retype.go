// Package retype relabels Arrow arrays with an equivalent type without
// copying: the same buffers, a type that differs only in field names,
// nullability flags or metadata. Parquet readers and Arrow producers disagree
// on such labels (a list's item is "item" to one and "element" to another;
// pqarrow adds field-id metadata), and arrow-go refuses to put arrays whose
// types differ in them under one schema.
//
// It imports only arrow-go.
package retype

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Rebind returns an array with the same buffers as arr (nothing is copied)
// whose type is t, which must have the same physical layout as arr's type:
// only field names, nullability flags and metadata may differ. The result must be Released.
func Rebind(arr arrow.Array, t arrow.DataType) (arrow.Array, error) {
	d, err := rebindData(arr.Data(), t)
	if err != nil {
		return nil, err
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}

// rebindData returns new ArrayData of type t over d's buffers; the caller
// releases it.
func rebindData(d arrow.ArrayData, t arrow.DataType) (*array.Data, error) {
	var childTypes []arrow.DataType
	if nt, ok := t.(arrow.NestedType); ok {
		for _, f := range nt.Fields() {
			childTypes = append(childTypes, f.Type)
		}
	}
	in := d.Children()
	if len(in) != len(childTypes) {
		return nil, fmt.Errorf("retype: cannot rebind %s data with %d children to %s", d.DataType(), len(in), t)
	}
	children := make([]arrow.ArrayData, len(in))
	release := func() {
		for _, c := range children {
			if c != nil {
				c.Release()
			}
		}
	}
	for i, c := range in {
		nc, err := rebindData(c, childTypes[i])
		if err != nil {
			release()
			return nil, err
		}
		children[i] = nc
	}
	out := array.NewData(t, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	release()
	// Dictionary returns a typed nil when there is none.
	if dict, _ := d.Dictionary().(*array.Data); dict != nil {
		dt, ok := t.(*arrow.DictionaryType)
		if !ok {
			out.Release()
			return nil, fmt.Errorf("retype: cannot rebind dictionary data to %s", t)
		}
		nd, err := rebindData(dict, dt.ValueType)
		if err != nil {
			out.Release()
			return nil, err
		}
		out.SetDictionary(nd)
		nd.Release()
	}
	return out, nil
}

// RebindRecord returns rec's columns under schema s (Rebind for each
// column), or rec itself, retained, when its schema already equals s. The
// result must be Released.
func RebindRecord(rec arrow.RecordBatch, s *arrow.Schema) (arrow.RecordBatch, error) {
	if rec.Schema().Equal(s) {
		rec.Retain()
		return rec, nil
	}
	if int(rec.NumCols()) != s.NumFields() {
		return nil, fmt.Errorf("retype: record has %d columns, schema %d", rec.NumCols(), s.NumFields())
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		c, err := Rebind(rec.Column(i), s.Field(i).Type)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", s.Field(i).Name, err)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(s, cols, rec.NumRows()), nil
}
