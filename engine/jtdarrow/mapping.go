package jtdarrow

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/jtd"
)

// kind is how a Mapping stores its value.
type kind uint8

const (
	kindBool kind = iota
	kindString
	kindTimestamp
	kindFloat32
	kindFloat64
	kindInt8
	kindUint8
	kindInt16
	kindUint16
	kindInt32
	kindUint32
	kindEnum // utf8, or dictionary<int32, utf8> when Mapping.dict
	kindList
	kindMap
	kindStruct
	kindJSON // utf8 holding the JSON text of the value
)

// Mapping is how the values of one schema are stored: an Arrow type and,
// for nested types, the mappings inside it. Immutable once built.
type Mapping struct {
	kind   kind
	typ    arrow.DataType
	dict   bool     // kindEnum stored as a dictionary
	elem   *Mapping // kindList items, kindMap values
	fields []Prop   // kindStruct, in field order
	// schema is the JSON Pointer tokens of the schema mapped (a ref's
	// definition for a ref), which range errors name as validation errors do.
	schema []string
}

// Type returns the Arrow type that stores the schema's values.
func (m *Mapping) Type() arrow.DataType { return m.typ }

// Prop is one property of a properties-form schema: a struct field, or a
// top-level column of an event type.
type Prop struct {
	Name     string
	Required bool // in "properties" rather than "optionalProperties"
	// Nullable: the schema accepts null (it is nullable, the empty form,
	// or a ref to such a definition), so a required property may be null.
	Nullable bool
	Mapping  *Mapping
}

// Field returns the property as a nullable Arrow field.
func (p Prop) Field() arrow.Field {
	return arrow.Field{Name: p.Name, Type: p.Mapping.typ, Nullable: true}
}

// timestampType is the type of timestamp-form values: like _ts.
var timestampType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

// dictType is the type of a top-level enum column.
var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// Columns returns the top-level columns of an event type: one per property
// of the root, required ones first, each group sorted by name (the order
// JTD itself gives no meaning to). The root must be of the properties form,
// and no property name may start with '_' (SPEC 2: those are the system
// columns'). Errors wrap base.ErrInvalid and name the property.
func Columns(s *jtd.Schema) ([]Prop, error) {
	if s.Form() != jtd.FormProperties {
		return nil, base.Errorf(base.ErrInvalid,
			"an event type's root must be of the properties form (\"properties\", \"optionalProperties\", \"additionalProperties\"), not the %s form", s.Form())
	}
	if s.Nullable() {
		return nil, base.Errorf(base.ErrInvalid, "an event type's root may not be nullable: an event is an object")
	}
	c := compiler{active: map[string]bool{}}
	return c.props(s, true)
}

// CheckNames returns an error (base.ErrInvalid) naming the JSON Pointer of
// the first properties-form schema of s that becomes a struct (a nested
// properties schema, directly or inside elements, values or a referenced
// definition) whose property names DuckDB could not keep apart: an empty
// name (DuckDB cannot make a table of a struct with an unnamed field, so
// no SQL query of the stream would work), or two names equal under
// FoldName (DuckDB's struct field names are case-insensitive: after a
// flush the segment reads the two as a and a_1, and values are lost).
// Sibling names are compared across properties and optionalProperties.
// Top-level names are Columns' and the stream's business (a case clash
// there is a conflict with the stream's columns). Schemas stored as JSON
// text (discriminator mappings, the empty form, recursion) are not
// checked: they make no struct. It is for definitions being defined; one
// already stored is mapped by Columns alone, so that a stream whose type
// predates the rule still opens.
func CheckNames(s *jtd.Schema) error {
	c := compiler{active: map[string]bool{}, names: true}
	_, err := c.props(s, true)
	return err
}

// FoldName is the case folding under which two names are one in SQL: two
// top-level properties, or two sibling struct fields, may not be equal
// under it.
func FoldName(name string) string { return strings.ToLower(name) }

// MaxNesting is how deeply lists, maps and structs may nest in a column.
// Deeper values would make Parquet columns few readers handle (and the
// writer recurses per level); the empty form {} keeps such values as JSON
// text instead.
const MaxNesting = 32

type compiler struct {
	active map[string]bool // definitions being compiled: a ref to one is recursive
	depth  int             // lists, maps and structs around the value being compiled
	names  bool            // refuse struct field names DuckDB cannot keep apart (CheckNames)
}

func (c *compiler) props(s *jtd.Schema, top bool) ([]Prop, error) {
	req, opt := s.PropertyNames()
	reqs, opts := s.Properties(), s.OptionalProperties()
	out := make([]Prop, 0, len(req)+len(opt))
	if c.names && !top {
		if err := checkFieldNames(s.Path(), append(append([]string(nil), req...), opt...)); err != nil {
			return nil, err
		}
	}
	add := func(name string, sub *jtd.Schema, required bool) error {
		if top {
			if strings.HasPrefix(name, "_") {
				return base.Errorf(base.ErrInvalid, "property %q: names starting with '_' are reserved for system columns (SPEC 2)", name)
			}
			if name == "" {
				return base.Errorf(base.ErrInvalid, "property \"\": a column needs a name")
			}
		}
		m, err := c.mapping(sub, top)
		if err != nil {
			return err
		}
		out = append(out, Prop{Name: name, Required: required, Nullable: acceptsNull(sub, 0), Mapping: m})
		return nil
	}
	for _, n := range req {
		if err := add(n, reqs[n], true); err != nil {
			return nil, err
		}
	}
	for _, n := range opt {
		if err := add(n, opts[n], false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkFieldNames is CheckNames' rule for the property names of one
// nested properties schema at path.
func checkFieldNames(path []string, names []string) error {
	at := jtd.Pointer(path)
	seen := make(map[string]string, len(names))
	for _, n := range names {
		if n == "" {
			return base.Errorf(base.ErrInvalid,
				"schema %s: property \"\": a nested property needs a name (it is a struct field, and DuckDB cannot query a struct with an unnamed field)", at)
		}
		f := FoldName(n)
		if other, ok := seen[f]; ok {
			return base.Errorf(base.ErrInvalid,
				"schema %s: properties %q and %q differ only in case; they are fields of one struct, and DuckDB's struct field names are case-insensitive (a flushed segment would read them as one): use the same spelling, or another name",
				at, other, n)
		}
		seen[f] = n
	}
	return nil
}

// acceptsNull reports whether s accepts null; depth bounds a chain of refs.
func acceptsNull(s *jtd.Schema, depth int) bool {
	switch {
	case s.Nullable() || s.Form() == jtd.FormEmpty:
		return true
	case s.Form() == jtd.FormRef && depth < MaxNesting:
		return acceptsNull(s.Resolve(), depth+1)
	}
	return false
}

// mapping compiles s. top says whether the value is a whole top-level
// column (an enum is then a dictionary: Parquet cannot store dictionaries
// nested in lists or maps).
func (c *compiler) mapping(s *jtd.Schema, top bool) (*Mapping, error) {
	switch s.Form() {
	case jtd.FormElements, jtd.FormValues, jtd.FormProperties:
		c.depth++
		defer func() { c.depth-- }()
		if c.depth > MaxNesting {
			return nil, base.Errorf(base.ErrInvalid,
				"the definition nests lists, maps and objects more than %d levels deep (at %s): use the empty form {} to keep deeper values as JSON text",
				MaxNesting, jtd.Pointer(s.Path()))
		}
	}
	switch s.Form() {
	case jtd.FormRef:
		name := s.Ref()
		if c.active[name] {
			return &Mapping{kind: kindJSON, typ: arrow.BinaryTypes.String}, nil
		}
		c.active[name] = true
		defer delete(c.active, name)
		return c.mapping(s.Resolve(), top)
	case jtd.FormType:
		m := typeMapping(s.Type())
		m.schema = append(s.Path(), "type")
		return m, nil
	case jtd.FormEnum:
		if top {
			return &Mapping{kind: kindEnum, typ: dictType, dict: true}, nil
		}
		return &Mapping{kind: kindEnum, typ: arrow.BinaryTypes.String}, nil
	case jtd.FormElements:
		e, err := c.mapping(s.Elements(), false)
		if err != nil {
			return nil, err
		}
		return &Mapping{kind: kindList, typ: arrow.ListOf(e.typ), elem: e}, nil
	case jtd.FormValues:
		v, err := c.mapping(s.Values(), false)
		if err != nil {
			return nil, err
		}
		mt := arrow.MapOf(arrow.BinaryTypes.String, v.typ)
		return &Mapping{kind: kindMap, typ: mt, elem: v}, nil
	case jtd.FormProperties:
		props, err := c.props(s, false)
		if err != nil {
			return nil, err
		}
		fields := make([]arrow.Field, len(props))
		for i, p := range props {
			fields[i] = p.Field()
		}
		return &Mapping{kind: kindStruct, typ: arrow.StructOf(fields...), fields: props}, nil
	}
	// The empty form and the discriminator form (a union) have no one
	// Arrow type: keep the JSON text.
	return &Mapping{kind: kindJSON, typ: arrow.BinaryTypes.String}, nil
}

func typeMapping(t jtd.Type) *Mapping {
	switch t {
	case jtd.TypeBoolean:
		return &Mapping{kind: kindBool, typ: arrow.FixedWidthTypes.Boolean}
	case jtd.TypeTimestamp:
		return &Mapping{kind: kindTimestamp, typ: timestampType}
	case jtd.TypeFloat32:
		return &Mapping{kind: kindFloat32, typ: arrow.PrimitiveTypes.Float32}
	case jtd.TypeFloat64:
		return &Mapping{kind: kindFloat64, typ: arrow.PrimitiveTypes.Float64}
	case jtd.TypeInt8:
		return &Mapping{kind: kindInt8, typ: arrow.PrimitiveTypes.Int8}
	case jtd.TypeUint8:
		return &Mapping{kind: kindUint8, typ: arrow.PrimitiveTypes.Uint8}
	case jtd.TypeInt16:
		return &Mapping{kind: kindInt16, typ: arrow.PrimitiveTypes.Int16}
	case jtd.TypeUint16:
		return &Mapping{kind: kindUint16, typ: arrow.PrimitiveTypes.Uint16}
	case jtd.TypeInt32:
		return &Mapping{kind: kindInt32, typ: arrow.PrimitiveTypes.Int32}
	case jtd.TypeUint32:
		return &Mapping{kind: kindUint32, typ: arrow.PrimitiveTypes.Uint32}
	}
	return &Mapping{kind: kindString, typ: arrow.BinaryTypes.String}
}
