package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
)

// byteValues is what array.String and array.Binary have in common here.
type byteValues interface {
	arrow.Array
	ValueLen(i int) int
}

// decodeDictionary turns a dictionary column of utf8 or binary values into a
// plain column of its value type, allocated from mem. Indices outside the
// dictionary are an error naming the field, never a panic.
func decodeDictionary(name string, col arrow.Array, mem memory.Allocator) (arrow.Array, error) {
	dict, ok := col.(*array.Dictionary)
	if !ok {
		return nil, base.Errorf(base.ErrInvalid, "field %q: want a dictionary column, batch has %s", name, FormatType(col.DataType()))
	}
	values, ok := dict.Dictionary().(byteValues)
	if !ok {
		return nil, base.Errorf(base.ErrInvalid, "field %q: dictionary values are %s", name, FormatType(dict.Dictionary().DataType()))
	}
	n, nv := dict.Len(), values.Len()
	total := 0
	for i := 0; i < n; i++ {
		if dict.IsNull(i) {
			continue
		}
		k := dict.GetValueIndex(i)
		if k < 0 || k >= nv {
			return nil, base.Errorf(base.ErrInvalid, "field %q: row %d: dictionary index %d is outside the dictionary of %d values", name, i, k, nv)
		}
		if values.IsValid(k) {
			total += values.ValueLen(k)
		}
	}
	switch v := values.(type) {
	case *array.String:
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(n)
		b.ReserveData(total)
		for i := 0; i < n; i++ {
			if k := dict.GetValueIndex(i); dict.IsNull(i) || v.IsNull(k) {
				b.AppendNull()
			} else {
				b.Append(v.Value(k))
			}
		}
		return b.NewArray(), nil
	case *array.Binary:
		b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
		defer b.Release()
		b.Reserve(n)
		b.ReserveData(total)
		for i := 0; i < n; i++ {
			if k := dict.GetValueIndex(i); dict.IsNull(i) || v.IsNull(k) {
				b.AppendNull()
			} else {
				b.Append(v.Value(k))
			}
		}
		return b.NewArray(), nil
	}
	return nil, base.Errorf(base.ErrInvalid, "field %q: cannot decode a dictionary of %s", name, FormatType(values.DataType()))
}
