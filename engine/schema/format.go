package schema

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// FormatType writes t in the grammar ParseType reads: ParseType(FormatType(t))
// is arrow.TypeEqual to t for every type ParseType accepts. Child fields are
// written by type only (list items are read back as "item"); types outside the
// grammar (extension types, decimals with a negative scale) fall back to
// arrow-go's own String form, which ParseType refuses.
func FormatType(t arrow.DataType) string {
	var b strings.Builder
	writeType(&b, t)
	return b.String()
}

func unitName(u arrow.TimeUnit) string {
	switch u {
	case arrow.Second:
		return "s"
	case arrow.Millisecond:
		return "ms"
	case arrow.Microsecond:
		return "us"
	}
	return "ns"
}

func writeChild(b *strings.Builder, t arrow.DataType, nullable bool) {
	writeType(b, t)
	if !nullable {
		b.WriteString(" not null")
	}
}

// writeName writes a struct or union member name, quoted unless it is a
// non-empty run of letters, digits and _ - . $.
func writeName(b *strings.Builder, n string) {
	bare := n != "" && utf8.ValidString(n)
	for _, r := range n {
		if !isBareNameRune(r) {
			bare = false
			break
		}
	}
	if bare {
		b.WriteString(n)
		return
	}
	b.WriteString(strconv.Quote(n))
}

func writeTimeZone(b *strings.Builder, tz string) {
	bare := true
	for i := 0; i < len(tz); i++ {
		c := tz[i]
		if !(isWordByte(c) || strings.IndexByte("/+-:.", c) >= 0) {
			bare = false
			break
		}
	}
	if bare {
		b.WriteString(tz)
		return
	}
	b.WriteString(strconv.Quote(tz))
}

func writeInt(b *strings.Builder, n int64) { b.WriteString(strconv.FormatInt(n, 10)) }

func writeType(b *strings.Builder, t arrow.DataType) {
	switch t := t.(type) {
	case nil:
		b.WriteString("<nil>")
	case arrow.ExtensionType:
		b.WriteString(t.String())
	case *arrow.StringType:
		b.WriteString("utf8")
	case *arrow.LargeStringType:
		b.WriteString("large_utf8")
	case *arrow.StringViewType:
		b.WriteString("utf8_view")
	case *arrow.Time32Type:
		b.WriteString("time32[" + unitName(t.Unit) + "]")
	case *arrow.Time64Type:
		b.WriteString("time64[" + unitName(t.Unit) + "]")
	case *arrow.DurationType:
		b.WriteString("duration[" + unitName(t.Unit) + "]")
	case *arrow.TimestampType:
		b.WriteString("timestamp[" + unitName(t.Unit))
		if t.TimeZone != "" {
			b.WriteString(", tz=")
			writeTimeZone(b, t.TimeZone)
		}
		b.WriteByte(']')
	case *arrow.MonthIntervalType:
		b.WriteString("interval[month]")
	case *arrow.DayTimeIntervalType:
		b.WriteString("interval[day_time]")
	case *arrow.MonthDayNanoIntervalType:
		b.WriteString("interval[month_day_nano]")
	case arrow.DecimalType:
		if t.GetScale() < 0 {
			b.WriteString(t.String())
			return
		}
		b.WriteString(decimalName(t) + "(")
		writeInt(b, int64(t.GetPrecision()))
		b.WriteString(", ")
		writeInt(b, int64(t.GetScale()))
		b.WriteByte(')')
	case *arrow.FixedSizeBinaryType:
		b.WriteString("fixed_size_binary[")
		writeInt(b, int64(t.ByteWidth))
		b.WriteByte(']')
	case *arrow.MapType:
		b.WriteString("map<")
		writeType(b, t.KeyType())
		b.WriteString(", ")
		writeChild(b, t.ItemType(), t.ItemField().Nullable)
		if t.KeysSorted {
			b.WriteString(", keys_sorted")
		}
		b.WriteByte('>')
	case *arrow.FixedSizeListType:
		b.WriteString("fixed_size_list<")
		writeChild(b, t.Elem(), t.ElemField().Nullable)
		b.WriteString(">[")
		writeInt(b, int64(t.Len()))
		b.WriteByte(']')
	case arrow.ListLikeType:
		b.WriteString(t.Name() + "<")
		writeChild(b, t.Elem(), t.ElemField().Nullable)
		b.WriteByte('>')
	case *arrow.StructType:
		b.WriteString("struct<")
		for i, f := range t.Fields() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeName(b, f.Name)
			b.WriteString(": ")
			writeChild(b, f.Type, f.Nullable)
		}
		b.WriteByte('>')
	case arrow.UnionType:
		b.WriteString(t.Name() + "<")
		codes := t.TypeCodes()
		defaultCodes := true
		for i, c := range codes {
			if int(c) != i {
				defaultCodes = false
			}
		}
		for i, f := range t.Fields() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeName(b, f.Name)
			b.WriteString(": ")
			writeChild(b, f.Type, f.Nullable)
			if !defaultCodes {
				b.WriteString(" = ")
				writeInt(b, int64(codes[i]))
			}
		}
		b.WriteByte('>')
	case *arrow.DictionaryType:
		b.WriteString("dictionary<values=")
		writeType(b, t.ValueType)
		b.WriteString(", indices=")
		writeType(b, t.IndexType)
		if t.Ordered {
			b.WriteString(", ordered")
		}
		b.WriteByte('>')
	case *arrow.RunEndEncodedType:
		b.WriteString("run_end_encoded<run_ends=")
		writeType(b, t.RunEnds())
		b.WriteString(", values=")
		writeChild(b, t.Encoded(), t.ValueNullable)
		b.WriteByte('>')
	default:
		// Parameterless types: arrow-go's name is the grammar's name
		// (int64, float16, binary, date32, null, ...).
		b.WriteString(t.Name())
	}
}

func decimalName(t arrow.DecimalType) string {
	switch t.ID() {
	case arrow.DECIMAL32:
		return "decimal32"
	case arrow.DECIMAL64:
		return "decimal64"
	case arrow.DECIMAL256:
		return "decimal256"
	}
	return "decimal128"
}
