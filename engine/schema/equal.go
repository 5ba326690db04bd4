package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// EqualIgnoringNames reports whether a and b are the same Arrow type, as
// arrow.TypeEqual does, except that the names of list elements and of map
// entries, keys and values are ignored, and so is all metadata. Struct and
// union member names still count: they are data.
func EqualIgnoringNames(a, b arrow.DataType) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.ID() != b.ID() {
		return false
	}
	switch a := a.(type) {
	case arrow.ExtensionType:
		return arrow.TypeEqual(a, b)
	case *arrow.MapType:
		m := b.(*arrow.MapType)
		return a.KeysSorted == m.KeysSorted &&
			a.KeyField().Nullable == m.KeyField().Nullable &&
			a.ItemField().Nullable == m.ItemField().Nullable &&
			EqualIgnoringNames(a.KeyType(), m.KeyType()) &&
			EqualIgnoringNames(a.ItemType(), m.ItemType())
	case *arrow.FixedSizeListType:
		l := b.(*arrow.FixedSizeListType)
		return a.Len() == l.Len() && a.ElemField().Nullable == l.ElemField().Nullable &&
			EqualIgnoringNames(a.Elem(), l.Elem())
	case arrow.ListLikeType:
		l, ok := b.(arrow.ListLikeType)
		return ok && a.ElemField().Nullable == l.ElemField().Nullable &&
			EqualIgnoringNames(a.Elem(), l.Elem())
	case *arrow.StructType:
		return fieldsEqual(a.Fields(), b.(*arrow.StructType).Fields())
	case arrow.UnionType:
		u := b.(arrow.UnionType)
		ac, bc := a.TypeCodes(), u.TypeCodes()
		if a.Mode() != u.Mode() || len(ac) != len(bc) {
			return false
		}
		for i := range ac {
			if ac[i] != bc[i] {
				return false
			}
		}
		return fieldsEqual(a.Fields(), u.Fields())
	case *arrow.DictionaryType:
		d := b.(*arrow.DictionaryType)
		return a.Ordered == d.Ordered && arrow.TypeEqual(a.IndexType, d.IndexType) &&
			EqualIgnoringNames(a.ValueType, d.ValueType)
	case *arrow.RunEndEncodedType:
		r := b.(*arrow.RunEndEncodedType)
		return a.ValueNullable == r.ValueNullable && arrow.TypeEqual(a.RunEnds(), r.RunEnds()) &&
			EqualIgnoringNames(a.Encoded(), r.Encoded())
	}
	return arrow.TypeEqual(a, b)
}

func fieldsEqual(a, b []arrow.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Nullable != b[i].Nullable || !EqualIgnoringNames(a[i].Type, b[i].Type) {
			return false
		}
	}
	return true
}
