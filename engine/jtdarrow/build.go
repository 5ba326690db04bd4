package jtdarrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BuildColumns makes the one-row arrays of props' columns from obj, a
// decoded JSON object. A property that is missing, null, or (only possible
// for an instance that was not validated, such as one replayed under a
// changed definition) of the wrong JSON type is null. The caller releases
// the arrays.
func BuildColumns(mem memory.Allocator, props []Prop, obj map[string]any) []arrow.Array {
	out := make([]arrow.Array, len(props))
	for i, p := range props {
		b := array.NewBuilder(mem, p.Mapping.typ)
		appendValue(b, p.Mapping, obj[p.Name])
		out[i] = b.NewArray()
		b.Release()
	}
	return out
}

func appendValue(b array.Builder, m *Mapping, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch m.kind {
	case kindBool:
		if x, ok := v.(bool); ok {
			b.(*array.BooleanBuilder).Append(x)
			return
		}
	case kindString:
		if x, ok := v.(string); ok {
			b.(*array.StringBuilder).Append(x)
			return
		}
	case kindEnum:
		if x, ok := v.(string); ok {
			if m.dict {
				if b.(*array.BinaryDictionaryBuilder).AppendString(x) == nil {
					return
				}
			} else {
				b.(*array.StringBuilder).Append(x)
				return
			}
		}
	case kindTimestamp:
		if x, ok := v.(string); ok {
			if ms, ok := ParseTimestamp(x); ok {
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(ms))
				return
			}
		}
	case kindFloat32, kindFloat64:
		if f, ok := toFloat(v); ok {
			if m.kind == kindFloat32 {
				b.(*array.Float32Builder).Append(float32(f))
			} else {
				b.(*array.Float64Builder).Append(f)
			}
			return
		}
	case kindInt8, kindUint8, kindInt16, kindUint16, kindInt32, kindUint32:
		if n, ok := toInt(v); ok && appendInt(b, m.kind, n) {
			return
		}
	case kindList:
		if xs, ok := v.([]any); ok {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			vb := lb.ValueBuilder()
			for _, x := range xs {
				appendValue(vb, m.elem, x)
			}
			return
		}
	case kindMap:
		if obj, ok := v.(map[string]any); ok {
			mb := b.(*array.MapBuilder)
			mb.Append(true)
			kb, ib := mb.KeyBuilder().(*array.StringBuilder), mb.ItemBuilder()
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			slices.Sort(keys) // deterministic, so replay rebuilds the same row
			for _, k := range keys {
				kb.Append(k)
				appendValue(ib, m.elem, obj[k])
			}
			return
		}
	case kindStruct:
		if obj, ok := v.(map[string]any); ok {
			sb := b.(*array.StructBuilder)
			sb.Append(true)
			for j, f := range m.fields {
				appendValue(sb.FieldBuilder(j), f.Mapping, obj[f.Name])
			}
			return
		}
	case kindJSON:
		if text, ok := jsonText(v); ok {
			b.(*array.StringBuilder).Append(text)
			return
		}
	}
	b.AppendNull()
}

func appendInt(b array.Builder, k kind, n int64) bool {
	fits := func(lo, hi int64) bool { return n >= lo && n <= hi }
	switch k {
	case kindInt8:
		if fits(math.MinInt8, math.MaxInt8) {
			b.(*array.Int8Builder).Append(int8(n))
			return true
		}
	case kindUint8:
		if fits(0, math.MaxUint8) {
			b.(*array.Uint8Builder).Append(uint8(n))
			return true
		}
	case kindInt16:
		if fits(math.MinInt16, math.MaxInt16) {
			b.(*array.Int16Builder).Append(int16(n))
			return true
		}
	case kindUint16:
		if fits(0, math.MaxUint16) {
			b.(*array.Uint16Builder).Append(uint16(n))
			return true
		}
	case kindInt32:
		if fits(math.MinInt32, math.MaxInt32) {
			b.(*array.Int32Builder).Append(int32(n))
			return true
		}
	case kindUint32:
		if fits(0, math.MaxUint32) {
			b.(*array.Uint32Builder).Append(uint32(n))
			return true
		}
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil || errors.Is(err, strconv.ErrRange)
	case float64:
		return x, true
	}
	return 0, false
}

// toInt returns an integer-valued JSON number (JTD accepts 1.0 and 1e2 as
// integers) as an int64.
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, true
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int64(f), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// ParseTimestamp parses an RFC 3339 date-time, as JTD's timestamp type
// accepts it (lower-case t and z, leap seconds), to Unix milliseconds,
// truncating finer digits toward the past. A time outside MinTimestamp to
// MaxTimestamp (once its offset and a leap second are applied) is not ok:
// it would read back as no RFC 3339 date-time (a year of five digits, or
// negative).
func ParseTimestamp(s string) (int64, bool) {
	ms, ok := parseTimestamp(s)
	return ms, ok && inTimestampRange(ms)
}

// The range of the timestamps a column holds, in Unix milliseconds: RFC
// 3339's years 0000 to 9999, to the millisecond (0000-01-01T00:00:00.000Z
// and 9999-12-31T23:59:59.999Z; TestTimestampRange checks them).
const (
	MinTimestamp = -62167219200000
	MaxTimestamp = 253402300799999
)

func inTimestampRange(ms int64) bool { return ms >= MinTimestamp && ms <= MaxTimestamp }

// parseTimestamp is ParseTimestamp without the range check.
func parseTimestamp(s string) (int64, bool) {
	s = strings.ToUpper(s)
	leap := false
	if len(s) >= 19 && s[17:19] == "60" {
		// Go's parser has no leap seconds: read :59 and add the second.
		s = s[:17] + "59" + s[19:]
		leap = true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	if leap {
		t = t.Add(time.Second)
	}
	// Seconds and milliseconds apart: UnixNano overflows before 1678 and
	// after 2261. Nanosecond is never negative, so this truncates toward
	// the past.
	return t.Unix()*1000 + int64(t.Nanosecond()/1e6), true
}

// jsonText renders a decoded JSON value back as compact JSON text, object
// keys sorted and without HTML escaping.
func jsonText(v any) (string, bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false
	}
	return strings.TrimSuffix(buf.String(), "\n"), true
}
