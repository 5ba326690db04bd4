package jtdarrow

import (
	"math"
	"strconv"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/jtd"
)

// Check returns an error (base.ErrInvalid) naming the JSON Pointer of the
// first value in obj, a validated instance of props, that its column
// cannot hold: a number past float32's range for a float32 property, or
// past float64's for a float64 one. RFC 8927 accepts any number for both,
// but the column would hold infinity, which reads back as null: the value
// would be lost while the write was acknowledged.
func Check(props []Prop, obj map[string]any) error {
	for _, p := range props {
		if v, ok := obj[p.Name]; ok {
			if at, ok := check(p.Mapping, v, []string{p.Name}); !ok {
				return base.Errorf(base.ErrInvalid, "%s: %v is beyond the range of its column (%s)", jtd.Pointer(at), v, p.Mapping.typ)
			}
		}
	}
	return nil
}

// check reports whether v, at path, fits m, and the path of what does not.
func check(m *Mapping, v any, path []string) ([]string, bool) {
	switch m.kind {
	case kindFloat32, kindFloat64:
		f, ok := toFloat(v)
		if !ok {
			return nil, true // not a number: validation's business
		}
		limit := math.MaxFloat64
		if m.kind == kindFloat32 {
			limit = math.MaxFloat32
		}
		return path, !math.IsInf(f, 0) && math.Abs(f) <= limit
	case kindList:
		xs, _ := v.([]any)
		for i, x := range xs {
			if at, ok := check(m.elem, x, append(path, strconv.Itoa(i))); !ok {
				return at, false
			}
		}
	case kindMap:
		obj, _ := v.(map[string]any)
		for k, x := range obj {
			if at, ok := check(m.elem, x, append(path, k)); !ok {
				return at, false
			}
		}
	case kindStruct:
		obj, _ := v.(map[string]any)
		for _, f := range m.fields {
			if x, ok := obj[f.Name]; ok {
				if at, ok := check(f.Mapping, x, append(path, f.Name)); !ok {
					return at, false
				}
			}
		}
	}
	return nil, true
}
