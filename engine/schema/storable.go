package schema

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

// CheckStorable reports whether every field of s can be written to Parquet by
// arrow-go's pqarrow writer and read back as the same Arrow type. The error
// wraps base.ErrInvalid and names the first offending field by path
// (`field "a.b"`) and the offending type.
//
// The supported set was decided by experiment (TestStorableTypesRoundTrip,
// which re-checks it): a type is storable when pqarrow writes it with
// WithStoreSchema and ReadTable gives back an equal type, where the only
// accepted normalization is the name of list elements ("item" comes back as
// "element"; Matcher ignores such names). Refused, with arrow-go v18.8.0:
//   - not written at all: utf8_view, binary_view, list_view, large_list_view,
//     duration, interval, decimal32, decimal64, run_end_encoded, unions,
//     extension types, struct<> (no fields), a dictionary inside a list or
//     map (the writer fails), a decimal with a negative scale or a scale
//     above its precision (the writer panics);
//   - read back as another type: date64 (date32), time32[s] (time32[ms]),
//     timestamp[s] (timestamp[ms]), map<..., keys_sorted> (unsorted), and a
//     dictionary whose values are not utf8 or binary (plain values).
//
// A nullable fixed_size_list is refused too: pqarrow cannot write a null
// entry followed by a valid one. Some data of storable types still cannot be
// written as it comes: nulls among a top-level dictionary's values are moved
// into its indices by Matcher.Conform (the same rows, logically), and a null
// list entry that has items is refused by it, so what Conform returns for a
// storable topic can always be written.
func CheckStorable(s *arrow.Schema) error {
	for _, f := range s.Fields() {
		if err := checkNullableFixedSizeList(f.Name, f); err != nil {
			return err
		}
		if err := checkStorable(f.Name, f.Type, false); err != nil {
			return err
		}
	}
	return nil
}

// checkNullableFixedSizeList refuses a nullable fixed_size_list field: pqarrow
// fails on a null entry followed by a valid one, which is ordinary data for
// such a field, so the type is refused when the topic is made rather than the
// data when it arrives.
func checkNullableFixedSizeList(path string, f arrow.Field) error {
	if f.Nullable && f.Type.ID() == arrow.FIXED_SIZE_LIST {
		return base.Errorf(base.ErrInvalid, "field %q: Arrow type %s cannot be stored in Parquet when nullable "+
			"(a null entry before a valid one cannot be written); declare it not null, or use list", path, FormatType(f.Type))
	}
	return nil
}

// checkStorable checks t, the type of the field at path; repeated says t is
// inside a list or map.
func checkStorable(path string, t arrow.DataType, repeated bool) error {
	refuse := func(why string) error {
		if why != "" {
			why = " (" + why + ")"
		}
		return base.Errorf(base.ErrInvalid, "field %q: Arrow type %s cannot be stored in Parquet%s",
			path, FormatType(t), why)
	}
	switch t.ID() {
	case arrow.NULL, arrow.BOOL,
		arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
		arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY,
		arrow.DATE32, arrow.TIME64, arrow.FIXED_SIZE_BINARY:
		return nil
	case arrow.DATE64:
		return refuse("it reads back as date32; use date32")
	case arrow.TIME32:
		if t.(*arrow.Time32Type).Unit != arrow.Millisecond {
			return refuse("it reads back as time32[ms]; use time32[ms]")
		}
		return nil
	case arrow.TIMESTAMP:
		if t.(*arrow.TimestampType).Unit == arrow.Second {
			return refuse("it reads back in milliseconds; use timestamp[ms]")
		}
		return nil
	case arrow.DECIMAL128, arrow.DECIMAL256:
		d := t.(arrow.DecimalType)
		if d.GetScale() < 0 || d.GetScale() > d.GetPrecision() {
			return refuse("Parquet needs 0 <= scale <= precision")
		}
		return nil
	case arrow.DECIMAL32, arrow.DECIMAL64:
		return refuse("use decimal128")
	case arrow.STRING_VIEW:
		return refuse("use utf8")
	case arrow.BINARY_VIEW:
		return refuse("use binary")
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST:
		if err := checkNullableFixedSizeList(path+".item", t.(arrow.ListLikeType).ElemField()); err != nil {
			return err
		}
		return checkStorable(path, t.(arrow.ListLikeType).Elem(), true)
	case arrow.MAP:
		m := t.(*arrow.MapType)
		if m.KeysSorted {
			return refuse("keys_sorted is lost")
		}
		if err := checkStorable(path, m.KeyType(), true); err != nil {
			return err
		}
		return checkStorable(path, m.ItemType(), true)
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		if st.NumFields() == 0 {
			return refuse("a struct needs at least one field")
		}
		for _, f := range st.Fields() {
			if err := checkNullableFixedSizeList(path+"."+f.Name, f); err != nil {
				return err
			}
			if err := checkStorable(path+"."+f.Name, f.Type, repeated); err != nil {
				return err
			}
		}
		return nil
	case arrow.DICTIONARY:
		d := t.(*arrow.DictionaryType)
		if repeated {
			return refuse("a dictionary inside a list or map")
		}
		switch d.ValueType.ID() {
		case arrow.STRING, arrow.BINARY:
			return nil
		}
		return refuse("only dictionaries of utf8 or binary keep their encoding")
	}
	return refuse("")
}
