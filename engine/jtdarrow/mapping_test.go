package jtdarrow

import (
	"errors"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/jtd"
)

// TestMaxNesting: columns nest lists, maps and objects at most MaxNesting
// levels deep; a deeper definition is refused naming the place.
func TestMaxNesting(t *testing.T) {
	nested := func(levels int) string {
		return `{"properties": {"a": ` + strings.Repeat(`{"elements": `, levels) + `{"type": "string"}` + strings.Repeat(`}`, levels) + `}}`
	}
	for _, c := range []struct {
		levels int
		ok     bool
	}{{1, true}, {MaxNesting, true}, {MaxNesting + 1, false}, {jtd.MaxSchemaNesting - 3, false}} {
		s, err := jtd.Parse([]byte(nested(c.levels)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Columns(s)
		if (err == nil) != c.ok || (err != nil && (!errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), "/properties/a/elements"))) {
			t.Errorf("%d levels: %v, want ok=%v", c.levels, err, c.ok)
		}
	}
}

// TestCheckNames: sibling property names of every schema that becomes a
// struct must be told apart by DuckDB: not empty, and not equal under
// FoldName (properties and optionalProperties together). Top-level names
// are the stream's business; JSON-text schemas make no struct.
func TestCheckNames(t *testing.T) {
	for _, c := range []struct{ def, msg string }{
		{`{"properties": {"s": {"properties": {"a": {"type": "string"}, "b": {"type": "int8"}}}}}`, ""},
		{`{"properties": {"a": {"type": "string"}, "A": {"type": "int8"}}}`, ""}, // top level: newTypeSet's 409
		{`{"properties": {"s": {"properties": {"a": {"type": "string"}, "A": {"type": "int8"}}}}}`,
			`schema /properties/s: properties "A" and "a" differ only in case`},
		{`{"properties": {"s": {"properties": {"Ab": {}}, "optionalProperties": {"aB": {}}}}}`,
			`schema /properties/s: properties "Ab" and "aB" differ only in case`},
		{`{"optionalProperties": {"l": {"elements": {"values": {"properties": {"x": {}, "X": {}}}}}}}`,
			`schema /optionalProperties/l/elements/values: properties "X" and "x"`},
		{`{"definitions": {"d": {"properties": {"k": {}}, "optionalProperties": {"K": {}}}}, "properties": {"s": {"ref": "d"}}}`,
			`schema /definitions/d: properties "k" and "K"`},
		{`{"properties": {"s": {"properties": {"o": {"properties": {"é": {}, "É": {}}}}}}}`,
			`schema /properties/s/properties/o: properties "É" and "é"`},
		{`{"properties": {"s": {"properties": {"": {"type": "string"}}}}}`, `schema /properties/s: property ""`},
		{`{"properties": {"s": {"elements": {"optionalProperties": {"": {}}}}}}`, `schema /properties/s/elements: property ""`},
		// No struct: JSON text, or a definition nothing refers to.
		{`{"properties": {"u": {"discriminator": "k", "mapping": {"x": {"properties": {"a": {}, "A": {}, "": {}}}}}}}`, ""},
		{`{"definitions": {"d": {"properties": {"a": {}, "A": {}}}}, "properties": {"x": {}}}`, ""},
		{`{"definitions": {"n": {"optionalProperties": {"next": {"ref": "n"}}}}, "properties": {"h": {"ref": "n"}}}`, ""},
	} {
		s, err := jtd.Parse([]byte(c.def))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Columns(s); err != nil {
			t.Fatalf("%s: Columns: %v (stored definitions must still map)", c.def, err)
		}
		err = CheckNames(s)
		switch {
		case c.msg == "" && err != nil:
			t.Errorf("%s: %v, want no error", c.def, err)
		case c.msg != "" && (err == nil || !strings.HasPrefix(err.Error(), c.msg) || !errors.Is(err, base.ErrInvalid)):
			t.Errorf("%s: %v, want an invalid-input error %s", c.def, err, c.msg)
		}
	}
}
