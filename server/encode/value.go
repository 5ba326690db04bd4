package encode

import (
	"encoding/base64"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// ValueAppender appends the JSON of the value at row i of the array it was
// made for. It is bound to one array: make one per column per record and
// call it for every row, so the type dispatch happens once per column.
type ValueAppender func(dst []byte, i int) []byte

// AppendJSONValue appends the JSON of arr's value at row i to dst, following
// the rules in the package documentation. It dispatches on the type at each
// call; to encode many rows of one array use NewValueAppender.
func AppendJSONValue(dst []byte, arr arrow.Array, i int) []byte {
	return NewValueAppender(arr)(dst, i)
}

// NewValueAppender returns the JSON appender for arr's values.
func NewValueAppender(arr arrow.Array) ValueAppender {
	return withNulls(arr, newJSONAppender(arr))
}

// withNulls wraps f so that null slots append null. Arrays without nulls
// get f itself.
func withNulls(arr arrow.Array, f ValueAppender) ValueAppender {
	if arr.NullN() == 0 {
		return f
	}
	return func(dst []byte, i int) []byte {
		if arr.IsNull(i) {
			return append(dst, "null"...)
		}
		return f(dst, i)
	}
}

func appendNull(dst []byte, _ int) []byte { return append(dst, "null"...) }

func signedAppender[T ~int8 | ~int16 | ~int32 | ~int64](vals []T) ValueAppender {
	return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(vals[i]), 10) }
}

func unsignedAppender[T ~uint8 | ~uint16 | ~uint32 | ~uint64](vals []T) ValueAppender {
	return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(vals[i]), 10) }
}

// quoted wraps a text appender (whose output never needs escaping) in
// JSON quotes.
func quoted(f ValueAppender) ValueAppender {
	return func(dst []byte, i int) []byte {
		dst = append(dst, '"')
		dst = f(dst, i)
		return append(dst, '"')
	}
}

// newJSONAppender returns the appender for arr's non-null values.
func newJSONAppender(arr arrow.Array) ValueAppender {
	if f := newScalarAppender(arr); f != nil {
		return f
	}
	if f := newTemporalTextAppender(arr); f != nil {
		return quoted(f)
	}
	switch a := arr.(type) {
	case *array.String:
		return func(dst []byte, i int) []byte { return appendJSONString(dst, a.Value(i)) }
	case *array.LargeString:
		return func(dst []byte, i int) []byte { return appendJSONString(dst, a.Value(i)) }
	case *array.StringView:
		return func(dst []byte, i int) []byte { return appendJSONString(dst, a.Value(i)) }
	case *array.Binary, *array.LargeBinary, *array.BinaryView, *array.FixedSizeBinary:
		return quoted(newBinaryTextAppender(arr))
	case *array.Dictionary:
		return newDictionaryAppender(a, NewValueAppender)
	case *array.RunEndEncoded:
		return newRunEndAppender(a, NewValueAppender)
	case array.ExtensionArray:
		return NewValueAppender(a.Storage())
	case *array.SparseUnion:
		children := unionChildren(a.Field, a.NumFields())
		return func(dst []byte, i int) []byte {
			id := a.ChildID(i)
			if id < 0 || id >= len(children) {
				return append(dst, "null"...)
			}
			return children[id](dst, i)
		}
	case *array.DenseUnion:
		children := unionChildren(a.Field, a.NumFields())
		return func(dst []byte, i int) []byte {
			id := a.ChildID(i)
			if id < 0 || id >= len(children) {
				return append(dst, "null"...)
			}
			return children[id](dst, int(a.ValueOffset(i)))
		}
	case *array.Struct:
		return newStructAppender(a)
	case *array.Map:
		return newMapAppender(a)
	case array.ListLike:
		return newListAppender(a)
	}
	// Unknown to this version: the array's own JSON rendering is valid
	// JSON, if slow. Every type of arrow-go v18.8 is handled above.
	return func(dst []byte, i int) []byte {
		b, err := sliceJSON(arr, i)
		if err != nil {
			return append(dst, "null"...)
		}
		return append(dst, b...)
	}
}

// sliceJSON renders one value with arrow-go's MarshalJSON, as a fallback.
func sliceJSON(arr arrow.Array, i int) ([]byte, error) {
	s := array.NewSlice(arr, int64(i), int64(i+1))
	defer s.Release()
	b, err := s.MarshalJSON()
	if err != nil || len(b) < 2 {
		return nil, err
	}
	return b[1 : len(b)-1], nil // strip the array brackets
}

// floatAppender returns the appender of a float array that writes each
// value with put (JSON and CSV spell NaN and the infinities differently),
// or nil for another array.
func floatAppender(arr arrow.Array, put func(dst []byte, f float64, bits int) []byte) ValueAppender {
	switch a := arr.(type) {
	case *array.Float16:
		return func(dst []byte, i int) []byte { return put(dst, float64(a.Value(i).Float32()), 32) }
	case *array.Float32:
		vals := a.Values()
		return func(dst []byte, i int) []byte { return put(dst, float64(vals[i]), 32) }
	case *array.Float64:
		vals := a.Values()
		return func(dst []byte, i int) []byte { return put(dst, vals[i], 64) }
	}
	return nil
}

// newScalarAppender returns the appender of numbers, bools, decimals,
// durations and intervals (whose JSON and CSV text are the same), or nil.
func newScalarAppender(arr arrow.Array) ValueAppender {
	switch a := arr.(type) {
	case *array.Null:
		return appendNull
	case *array.Boolean:
		return func(dst []byte, i int) []byte { return strconv.AppendBool(dst, a.Value(i)) }
	case *array.Int8:
		return signedAppender(a.Values())
	case *array.Int16:
		return signedAppender(a.Values())
	case *array.Int32:
		return signedAppender(a.Values())
	case *array.Int64:
		return signedAppender(a.Values())
	case *array.Uint8:
		return unsignedAppender(a.Values())
	case *array.Uint16:
		return unsignedAppender(a.Values())
	case *array.Uint32:
		return unsignedAppender(a.Values())
	case *array.Uint64:
		return unsignedAppender(a.Values())
	case *array.Float16, *array.Float32, *array.Float64:
		return floatAppender(arr, appendFloat)
	case *array.Decimal32, *array.Decimal64, *array.Decimal128, *array.Decimal256:
		return newDecimalAppender(arr)
	case *array.Duration:
		return signedAppender(a.Values())
	case *array.MonthInterval:
		vals := a.Values()
		return func(dst []byte, i int) []byte {
			dst = append(dst, `{"months":`...)
			dst = strconv.AppendInt(dst, int64(vals[i]), 10)
			return append(dst, '}')
		}
	case *array.DayTimeInterval:
		vals := a.DayTimeIntervalValues()
		return func(dst []byte, i int) []byte {
			dst = append(dst, `{"days":`...)
			dst = strconv.AppendInt(dst, int64(vals[i].Days), 10)
			dst = append(dst, `,"milliseconds":`...)
			dst = strconv.AppendInt(dst, int64(vals[i].Milliseconds), 10)
			return append(dst, '}')
		}
	case *array.MonthDayNanoInterval:
		vals := a.MonthDayNanoIntervalValues()
		return func(dst []byte, i int) []byte {
			dst = append(dst, `{"months":`...)
			dst = strconv.AppendInt(dst, int64(vals[i].Months), 10)
			dst = append(dst, `,"days":`...)
			dst = strconv.AppendInt(dst, int64(vals[i].Days), 10)
			dst = append(dst, `,"nanoseconds":`...)
			dst = strconv.AppendInt(dst, vals[i].Nanoseconds, 10)
			return append(dst, '}')
		}
	}
	return nil
}

// newBinaryTextAppender appends binary values as standard base64.
func newBinaryTextAppender(arr arrow.Array) ValueAppender {
	var value func(int) []byte
	switch a := arr.(type) {
	case *array.Binary:
		value = a.Value
	case *array.LargeBinary:
		value = a.Value
	case *array.BinaryView:
		value = a.Value
	case *array.FixedSizeBinary:
		value = a.Value
	default:
		return nil
	}
	return func(dst []byte, i int) []byte { return base64.StdEncoding.AppendEncode(dst, value(i)) }
}

// newDictionaryAppender decodes a dictionary: mk makes the appender of the
// dictionary's values (JSON or text).
func newDictionaryAppender(a *array.Dictionary, mk func(arrow.Array) ValueAppender) ValueAppender {
	values := mk(a.Dictionary())
	return func(dst []byte, i int) []byte { return values(dst, a.GetValueIndex(i)) }
}

// newRunEndAppender decodes a run-end-encoded array: row i is the value of
// the first run whose end is past the array offset plus i.
func newRunEndAppender(a *array.RunEndEncoded, mk func(arrow.Array) ValueAppender) ValueAppender {
	values := mk(a.Values())
	base := int64(a.Data().Offset())
	var find func(logical int64) int
	switch e := a.RunEndsArr().(type) {
	case *array.Int16:
		find = runSearch(e.Values())
	case *array.Int32:
		find = runSearch(e.Values())
	case *array.Int64:
		find = runSearch(e.Values())
	default:
		return appendNull
	}
	return func(dst []byte, i int) []byte { return values(dst, find(base+int64(i))) }
}

func runSearch[T ~int16 | ~int32 | ~int64](ends []T) func(int64) int {
	return func(logical int64) int {
		lo, hi := 0, len(ends)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if int64(ends[m]) > logical {
				hi = m
			} else {
				lo = m + 1
			}
		}
		return lo
	}
}

// unionChildren makes a JSON appender per child of a union.
func unionChildren(field func(int) arrow.Array, n int) []ValueAppender {
	out := make([]ValueAppender, n)
	for k := range out {
		out[k] = NewValueAppender(field(k))
	}
	return out
}

// appendKey appends the JSON of an object key and its colon.
func appendKey(dst []byte, name string) []byte {
	dst = appendJSONString(dst, name)
	return append(dst, ':')
}

func newStructAppender(a *array.Struct) ValueAppender {
	st := a.DataType().(*arrow.StructType)
	n := a.NumField()
	keys := make([][]byte, n)
	fields := make([]ValueAppender, n)
	for k := 0; k < n; k++ {
		keys[k] = appendKey(nil, st.Field(k).Name)
		fields[k] = NewValueAppender(a.Field(k))
	}
	return func(dst []byte, i int) []byte {
		dst = append(dst, '{')
		for k := range fields {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, keys[k]...)
			dst = fields[k](dst, i)
		}
		return append(dst, '}')
	}
}

func newListAppender(a array.ListLike) ValueAppender {
	values := NewValueAppender(a.ListValues())
	return func(dst []byte, i int) []byte {
		start, end := a.ValueOffsets(i)
		dst = append(dst, '[')
		for j := start; j < end; j++ {
			if j > start {
				dst = append(dst, ',')
			}
			dst = values(dst, int(j))
		}
		return append(dst, ']')
	}
}

func newMapAppender(a *array.Map) ValueAppender {
	keys := NewValueAppender(a.Keys())
	items := NewValueAppender(a.Items())
	return func(dst []byte, i int) []byte {
		start, end := a.ValueOffsets(i)
		dst = append(dst, '[')
		for j := start; j < end; j++ {
			if j > start {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"key":`...)
			dst = keys(dst, int(j))
			dst = append(dst, `,"value":`...)
			dst = items(dst, int(j))
			dst = append(dst, '}')
		}
		return append(dst, ']')
	}
}
