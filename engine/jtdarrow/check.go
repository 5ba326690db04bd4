package jtdarrow

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/jtd"
)

// Check returns an error (base.ErrInvalid) naming the JSON Pointer of the
// first value in obj, a validated instance of props, that its column
// cannot hold: a number past float32's range for a float32 property, or
// past float64's for a float64 one; a timestamp outside MinTimestamp to
// MaxTimestamp. RFC 8927 accepts any number for both float types, but the
// column would hold infinity, which reads back as null; and any RFC 3339
// date-time, but one before year 0000 or after 9999 (an offset or a leap
// second can carry 0000-01-01 or 9999-12-31 there) would read back as
// no RFC 3339 date-time: the value would be lost while the write was
// acknowledged. The message has the form of a validation error's
// (jtd.ValidationError.String): `"/l/0": 1e39 is beyond the range of
// float32 (schema /properties/l/elements/type)`.
func Check(props []Prop, obj map[string]any) error {
	for _, p := range props {
		if v, ok := obj[p.Name]; ok {
			if bad := check(p.Mapping, v, []string{p.Name}); bad != nil {
				return base.Errorf(base.ErrInvalid, "%s", bad)
			}
		}
	}
	return nil
}

// outOfRange is a value its column cannot hold, where it is.
type outOfRange struct {
	path []string
	v    any
	m    *Mapping
}

func (e *outOfRange) String() string {
	var what string
	switch e.m.kind {
	case kindTimestamp:
		s, _ := e.v.(string)
		what = fmt.Sprintf("%q is outside the range of timestamps, %s to %s",
			s, time.UnixMilli(MinTimestamp).UTC().Format(renderLayout), time.UnixMilli(MaxTimestamp).UTC().Format(renderLayout))
	default:
		what = fmt.Sprintf("%v is beyond the range of %s", e.v, e.m.typ)
	}
	sp := jtd.Pointer(e.m.schema)
	if sp == "" {
		sp = "root"
	}
	return strconv.Quote(jtd.Pointer(e.path)) + ": " + what + " (schema " + sp + ")"
}

// check returns what of v, at path, does not fit m, or nil.
func check(m *Mapping, v any, path []string) *outOfRange {
	switch m.kind {
	case kindFloat32, kindFloat64:
		f, ok := toFloat(v)
		if !ok {
			return nil // not a number: validation's business
		}
		limit := math.MaxFloat64
		if m.kind == kindFloat32 {
			limit = math.MaxFloat32
		}
		if math.IsInf(f, 0) || math.Abs(f) > limit {
			return &outOfRange{path: path, v: v, m: m}
		}
	case kindTimestamp:
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if ms, ok := parseTimestamp(s); ok && !inTimestampRange(ms) {
			return &outOfRange{path: path, v: v, m: m}
		}
	case kindList:
		xs, _ := v.([]any)
		for i, x := range xs {
			if bad := check(m.elem, x, append(path, strconv.Itoa(i))); bad != nil {
				return bad
			}
		}
	case kindMap:
		obj, _ := v.(map[string]any)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the first error is the same at every try
		for _, k := range keys {
			if bad := check(m.elem, obj[k], append(path, k)); bad != nil {
				return bad
			}
		}
	case kindStruct:
		obj, _ := v.(map[string]any)
		for _, f := range m.fields {
			if x, ok := obj[f.Name]; ok {
				if bad := check(f.Mapping, x, append(path, f.Name)); bad != nil {
					return bad
				}
			}
		}
	}
	return nil
}
