package encode

import (
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// newTextAppender returns the CSV text appender of arr: nulls append
// nothing, strings are raw (invalid UTF-8 bytes become U+FFFD), binary is
// base64, temporal values are their JSON text without quotes, numbers and
// bools as in JSON (but NaN and infinities as nan, inf and -inf), and
// nested values their JSON text.
func newTextAppender(arr arrow.Array) ValueAppender {
	f := newNonNullTextAppender(arr)
	if arr.NullN() == 0 {
		return f
	}
	return func(dst []byte, i int) []byte {
		if arr.IsNull(i) {
			return dst
		}
		return f(dst, i)
	}
}

func newNonNullTextAppender(arr arrow.Array) ValueAppender {
	if _, ok := arr.(*array.Null); ok {
		return func(dst []byte, _ int) []byte { return dst }
	}
	if f := floatAppender(arr, appendTextFloat); f != nil {
		return f
	}
	if f := newScalarAppender(arr); f != nil {
		return f
	}
	if f := newTemporalTextAppender(arr); f != nil {
		return f
	}
	switch a := arr.(type) {
	case *array.String:
		return func(dst []byte, i int) []byte { return appendValidUTF8(dst, a.Value(i)) }
	case *array.LargeString:
		return func(dst []byte, i int) []byte { return appendValidUTF8(dst, a.Value(i)) }
	case *array.StringView:
		return func(dst []byte, i int) []byte { return appendValidUTF8(dst, a.Value(i)) }
	case *array.Binary, *array.LargeBinary, *array.BinaryView, *array.FixedSizeBinary:
		return newBinaryTextAppender(arr)
	case *array.Dictionary:
		return newDictionaryAppender(a, newTextAppender)
	case *array.RunEndEncoded:
		return newRunEndAppender(a, newTextAppender)
	case array.ExtensionArray:
		return newTextAppender(a.Storage())
	}
	return newJSONAppender(arr)
}

// appendTextFloat appends f as its CSV text: as in JSON when finite, and
// otherwise nan, inf or -inf, as DuckDB writes and reads them (JSON has no
// such numbers and says null, which in CSV would read back as a null).
func appendTextFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return appendFloat(dst, f, bits)
}

// appendValidUTF8 appends s with each invalid UTF-8 byte replaced by U+FFFD.
func appendValidUTF8(dst []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(dst, s...)
	}
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// csvNeedsQuotes reports whether encoding/csv's writer (comma ',') would
// quote field.
func csvNeedsQuotes(field []byte) bool {
	if len(field) == 0 {
		return false
	}
	if len(field) == 2 && field[0] == '\\' && field[1] == '.' {
		return true
	}
	for _, c := range field {
		if c == '\n' || c == '\r' || c == '"' || c == ',' {
			return true
		}
	}
	r, _ := utf8.DecodeRune(field)
	return unicode.IsSpace(r)
}

// appendCSVField appends field as encoding/csv's writer does (comma ',',
// UseCRLF false): quoted when needed, quotes doubled.
func appendCSVField(dst []byte, field []byte) []byte {
	if !csvNeedsQuotes(field) {
		return append(dst, field...)
	}
	dst = append(dst, '"')
	start := 0
	for i, c := range field {
		if c == '"' {
			dst = append(dst, field[start:i+1]...)
			dst = append(dst, '"')
			start = i + 1
		}
	}
	dst = append(dst, field[start:]...)
	return append(dst, '"')
}
