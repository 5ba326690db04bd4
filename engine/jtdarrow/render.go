package jtdarrow

import (
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ducktail/ducktail/internal/jsonx"
)

// renderLayout is how timestamps read back: RFC 3339 with milliseconds.
const renderLayout = "2006-01-02T15:04:05.000Z07:00"

// Appender appends the JSON of row i of the array or record it was made
// for.
type Appender func(dst []byte, i int) []byte

// ObjectAppender returns the appender of the JSON object of an event type's
// row in rec: its properties from the columns of the same names, a null
// optional property left out and a null required one (a nullable property)
// written as null. A column rec lacks (a segment written before the type
// had it) counts as null.
func ObjectAppender(props []Prop, rec arrow.RecordBatch) Appender {
	cols := make([]arrow.Array, len(props))
	s := rec.Schema()
	for i, p := range props {
		if idx := s.FieldIndices(p.Name); len(idx) > 0 {
			cols[i] = rec.Column(idx[0])
		}
	}
	return objectAppender(props, cols)
}

func objectAppender(props []Prop, cols []arrow.Array) Appender {
	keys := make([][]byte, len(props))
	vals := make([]Appender, len(props))
	for i, p := range props {
		keys[i] = append(jsonx.AppendString(nil, p.Name), ':')
		if cols[i] != nil {
			vals[i] = valueAppender(p.Mapping, cols[i])
		}
	}
	// The required properties that cannot be null: a row where one is null
	// was written under an earlier definition.
	var strict []int
	for i, p := range props {
		if p.Required && !p.Nullable {
			strict = append(strict, i)
		}
	}
	return func(dst []byte, row int) []byte {
		dst = append(dst, '{')
		first := true
		current := true
		for _, i := range strict {
			if cols[i] == nil || cols[i].IsNull(row) {
				current = false
				break
			}
		}
		for i, p := range props {
			c := cols[i]
			// A null is shown only where the definition the row was written
			// under put one: a required property that accepts null, in a
			// row that has every other required property. Elsewhere the
			// property was left out, or the row was written before it was
			// required or existed, and the event reads back as it was
			// written (for a definition without required non-null
			// properties the two cannot be told apart: null is shown).
			null := c == nil || c.IsNull(row)
			if null && !(p.Required && p.Nullable && current) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, keys[i]...)
			if null {
				dst = append(dst, "null"...)
			} else {
				dst = vals[i](dst, row)
			}
		}
		return append(dst, '}')
	}
}

// valueAppender returns the appender of arr's non-null values as m maps
// them. An array of an unexpected type renders as null.
func valueAppender(m *Mapping, arr arrow.Array) Appender {
	null := func(dst []byte, _ int) []byte { return append(dst, "null"...) }
	orNull := func(f Appender) Appender {
		return func(dst []byte, i int) []byte {
			if arr.IsNull(i) {
				return append(dst, "null"...)
			}
			return f(dst, i)
		}
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return orNull(func(dst []byte, i int) []byte { return strconv.AppendBool(dst, a.Value(i)) })
	case *array.String:
		if m.kind == kindJSON {
			return orNull(func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) })
		}
		return orNull(func(dst []byte, i int) []byte { return jsonx.AppendString(dst, a.Value(i)) })
	case *array.Dictionary:
		dict, ok := a.Dictionary().(*array.String)
		if !ok {
			return null
		}
		return orNull(func(dst []byte, i int) []byte { return jsonx.AppendString(dst, dict.Value(a.GetValueIndex(i))) })
	case *array.Timestamp:
		return orNull(func(dst []byte, i int) []byte {
			dst = append(dst, '"')
			dst = time.UnixMilli(int64(a.Value(i))).UTC().AppendFormat(dst, renderLayout)
			return append(dst, '"')
		})
	case *array.Float32:
		return orNull(func(dst []byte, i int) []byte { return jsonx.AppendFloat(dst, float64(a.Value(i)), 32) })
	case *array.Float64:
		return orNull(func(dst []byte, i int) []byte { return jsonx.AppendFloat(dst, a.Value(i), 64) })
	case *array.Int8:
		return orNull(func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) })
	case *array.Int16:
		return orNull(func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) })
	case *array.Int32:
		return orNull(func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) })
	case *array.Uint8:
		return orNull(func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) })
	case *array.Uint16:
		return orNull(func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) })
	case *array.Uint32:
		return orNull(func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) })
	case *array.Map: // before List: a Map is a List
		if m.kind != kindMap {
			return null
		}
		keys, ok := a.Keys().(*array.String)
		if !ok {
			return null
		}
		items := valueAppender(m.elem, a.Items())
		return orNull(func(dst []byte, i int) []byte {
			lo, hi := a.ValueOffsets(i)
			dst = append(dst, '{')
			for j := lo; j < hi; j++ {
				if j > lo {
					dst = append(dst, ',')
				}
				dst = jsonx.AppendString(dst, keys.Value(int(j)))
				dst = append(dst, ':')
				dst = items(dst, int(j))
			}
			return append(dst, '}')
		})
	case *array.List:
		if m.kind != kindList {
			return null
		}
		elems := valueAppender(m.elem, a.ListValues())
		return orNull(func(dst []byte, i int) []byte {
			lo, hi := a.ValueOffsets(i)
			dst = append(dst, '[')
			for j := lo; j < hi; j++ {
				if j > lo {
					dst = append(dst, ',')
				}
				dst = elems(dst, int(j))
			}
			return append(dst, ']')
		})
	case *array.Struct:
		if m.kind != kindStruct {
			return null
		}
		st := a.DataType().(*arrow.StructType)
		cols := make([]arrow.Array, len(m.fields))
		for i, f := range m.fields {
			if idx, ok := st.FieldIdx(f.Name); ok {
				cols[i] = a.Field(idx)
			}
		}
		return orNull(objectAppender(m.fields, cols))
	}
	return null
}
