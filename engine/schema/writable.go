package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ducktail/ducktail/base"
)

// needsDeepCheck reports whether columns of type t can hold data that is
// valid Arrow but that pqarrow cannot write, or nested nulls that the type
// forbids, so that Conform must look at them row by row.
func needsDeepCheck(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.MAP, arrow.STRUCT, arrow.DICTIONARY:
		return true
	}
	return false
}

// checkWritable walks a nested column and refuses, with an error naming the
// path, data that pqarrow (arrow-go v18.8.0) cannot write to Parquet or that
// breaks the declared nullability of nested fields:
//   - a null list or map entry that still has items (legal in Arrow; pqarrow
//     fails with "lists with non-zero length null components");
//   - a null fixed_size_list entry, or a null struct around a list, followed
//     by a valid one (the same failure: the skipped items leave a gap);
//   - a dictionary whose values contain nulls ("null encoded in dictionary");
//   - nulls in a nested field declared not null, under a valid parent.
//
// masked[i] says slot i is inside a null parent; nil means none is.
func checkWritable(path string, arr arrow.Array, nullable bool, masked []bool) error {
	n := arr.Len()
	hasNulls := arr.NullN() > 0
	isNull := func(i int) bool { return (masked != nil && masked[i]) || (hasNulls && arr.IsNull(i)) }
	if !nullable && hasNulls {
		for i := 0; i < n; i++ {
			if arr.IsNull(i) && (masked == nil || !masked[i]) {
				return base.Errorf(base.ErrInvalid, "field %q: not nullable, but row %d of it is null", path, i)
			}
		}
	}
	switch a := arr.(type) {
	case *array.List:
		return checkListItems(path, a.ListValues(), a.DataType().(arrow.ListLikeType).ElemField(), n, isNull, a.ValueOffsets)
	case *array.LargeList:
		return checkListItems(path, a.ListValues(), a.DataType().(arrow.ListLikeType).ElemField(), n, isNull, a.ValueOffsets)
	case *array.Map:
		return checkListItems(path, a.ListValues(), a.DataType().(arrow.ListLikeType).ElemField(), n, isNull, a.ValueOffsets)
	case *array.FixedSizeList:
		size := int(a.DataType().(*arrow.FixedSizeListType).Len())
		var itemMask []bool
		seenNull := false
		for i := 0; i < n; i++ {
			null := isNull(i)
			if seenNull && !null {
				return base.Errorf(base.ErrInvalid, "field %q: row %d: a null fixed_size_list entry before a valid one cannot be stored in Parquet", path, i)
			}
			if null && !seenNull {
				seenNull = true
				itemMask = make([]bool, n*size)
			}
			if null {
				for k := i * size; k < (i+1)*size; k++ {
					itemMask[k] = true
				}
			}
		}
		values := a.ListValues()
		start := a.Offset() * size
		if start+n*size > values.Len() {
			return base.Errorf(base.ErrInvalid, "field %q: fixed_size_list has fewer items than %d rows of %d", path, n, size)
		}
		items := array.NewSlice(values, int64(start), int64(start+n*size))
		defer items.Release()
		return checkWritable(path, items, a.DataType().(*arrow.FixedSizeListType).ElemField().Nullable, itemMask)
	case *array.Struct:
		var childMask []bool
		if masked != nil || hasNulls {
			childMask = make([]bool, n)
			for i := range childMask {
				childMask[i] = isNull(i)
			}
		}
		st := a.DataType().(*arrow.StructType)
		for j := 0; j < a.NumField(); j++ {
			f := st.Field(j)
			if err := checkWritable(path+"."+f.Name, a.Field(j), f.Nullable, childMask); err != nil {
				return err
			}
		}
	case *array.Dictionary:
		if nn := a.Dictionary().NullN(); nn > 0 {
			return base.Errorf(base.ErrInvalid, "field %q: the dictionary has %d null values; put nulls in the indices instead", path, nn)
		}
	}
	return nil
}

// checkListItems checks the entries of a list-like column: null entries must
// be empty, and the items of the valid entries are checked in turn.
func checkListItems(path string, values arrow.Array, elem arrow.Field, n int,
	isNull func(int) bool, offsets func(int) (int64, int64)) error {
	if n == 0 {
		return nil
	}
	for i := 0; i < n; i++ {
		if !isNull(i) {
			continue
		}
		if s, e := offsets(i); e != s {
			return base.Errorf(base.ErrInvalid, "field %q: row %d: a null list entry with %d items cannot be stored in Parquet", path, i, e-s)
		}
	}
	first, _ := offsets(0)
	_, last := offsets(n - 1)
	if first < 0 || last < first || last > int64(values.Len()) {
		return base.Errorf(base.ErrInvalid, "field %q: list offsets [%d, %d] are outside its %d items", path, first, last, values.Len())
	}
	items := array.NewSlice(values, first, last)
	defer items.Release()
	return checkWritable(path, items, elem.Nullable, nil)
}
