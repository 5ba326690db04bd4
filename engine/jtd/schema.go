package jtd

import (
	"maps"
	"slices"
)

// Form is the form of a schema (RFC 8927 section 2.2): which kind of check it
// makes. Every correct schema has exactly one form.
type Form uint8

// The eight forms.
const (
	FormEmpty         Form = iota // {} : accepts anything
	FormRef                       // {"ref": name}
	FormType                      // {"type": name}
	FormEnum                      // {"enum": [strings]}
	FormElements                  // {"elements": schema}
	FormProperties                // {"properties"/"optionalProperties"/"additionalProperties"}
	FormValues                    // {"values": schema}
	FormDiscriminator             // {"discriminator": tag, "mapping": {value: schema}}
)

// String returns the form's name as the RFC spells it ("empty", "ref", ...).
func (f Form) String() string {
	switch f {
	case FormEmpty:
		return "empty"
	case FormRef:
		return "ref"
	case FormType:
		return "type"
	case FormEnum:
		return "enum"
	case FormElements:
		return "elements"
	case FormProperties:
		return "properties"
	case FormValues:
		return "values"
	case FormDiscriminator:
		return "discriminator"
	}
	return "unknown"
}

// Type is the value of a type-form schema's "type" keyword.
type Type string

// The RFC's type names (RFC 8927 section 2.2.3).
const (
	TypeBoolean   Type = "boolean"
	TypeString    Type = "string"
	TypeTimestamp Type = "timestamp"
	TypeFloat32   Type = "float32"
	TypeFloat64   Type = "float64"
	TypeInt8      Type = "int8"
	TypeUint8     Type = "uint8"
	TypeInt16     Type = "int16"
	TypeUint16    Type = "uint16"
	TypeInt32     Type = "int32"
	TypeUint32    Type = "uint32"
)

// Schema is a parsed, checked JTD schema. The value returned by Parse is the
// root (it holds the definitions); the accessors return sub-schemas of the
// same type, each of which knows its root, so a ref inside any sub-schema
// resolves. A Schema is immutable and safe for concurrent use.
type Schema struct {
	root     *Schema
	form     Form
	nullable bool
	metadata map[string]any // nil when absent

	typ  Type
	enum []string
	// enumSet is enum as a set, for validation.
	enumSet map[string]struct{}

	elements *Schema // elements and values forms

	properties    map[string]*Schema
	optional      map[string]*Schema
	propNames     []string // sorted keys of properties
	optNames      []string // sorted keys of optional
	hasProperties bool     // "properties" keyword present (even if empty)
	hasOptional   bool     // "optionalProperties" keyword present
	additional    bool

	tag     string
	mapping map[string]*Schema

	ref       string
	refTarget *Schema

	definitions map[string]*Schema // root only

	// path is this schema's location as JSON Pointer tokens, relative to the
	// root or, inside a definition, starting with "definitions", name: this is
	// the RFC's schemaPath prefix for errors found at this schema.
	path []string
}

// Form returns the schema's form.
func (s *Schema) Form() Form { return s.form }

// Nullable reports whether the schema also accepts null.
func (s *Schema) Nullable() bool { return s.nullable }

// Metadata returns the schema's "metadata" object (numbers as json.Number),
// or nil when it has none. The map is shared: callers must not modify it.
func (s *Schema) Metadata() map[string]any { return s.metadata }

// Type returns the type name of a type-form schema, or "" for other forms.
func (s *Schema) Type() Type { return s.typ }

// Enum returns a copy of an enum-form schema's values, in schema order, or
// nil for other forms.
func (s *Schema) Enum() []string { return slices.Clone(s.enum) }

// Elements returns the element schema of an elements-form schema, or nil.
func (s *Schema) Elements() *Schema {
	if s.form != FormElements {
		return nil
	}
	return s.elements
}

// Values returns the value schema of a values-form schema, or nil.
func (s *Schema) Values() *Schema {
	if s.form != FormValues {
		return nil
	}
	return s.elements
}

// Properties returns a copy of the required properties of a properties-form
// schema (name to sub-schema), or nil for other forms.
func (s *Schema) Properties() map[string]*Schema { return maps.Clone(s.properties) }

// OptionalProperties returns a copy of the optional properties of a
// properties-form schema, or nil for other forms.
func (s *Schema) OptionalProperties() map[string]*Schema { return maps.Clone(s.optional) }

// PropertyNames returns the sorted names of the required properties and
// then, sorted, those of the optional properties: a stable order for
// columns.
func (s *Schema) PropertyNames() (required, optional []string) {
	return slices.Clone(s.propNames), slices.Clone(s.optNames)
}

// AdditionalProperties reports whether a properties-form schema allows
// properties it does not name (the "additionalProperties" keyword; default
// false).
func (s *Schema) AdditionalProperties() bool { return s.additional }

// Discriminator returns the tag property name and a copy of the mapping (tag
// value to properties-form schema) of a discriminator-form schema, or "" and
// nil for other forms.
func (s *Schema) Discriminator() (tag string, mapping map[string]*Schema) {
	return s.tag, maps.Clone(s.mapping)
}

// Ref returns the definition name of a ref-form schema, or "".
func (s *Schema) Ref() string { return s.ref }

// Resolve returns the definition a ref-form schema points to, or nil for
// other forms.
func (s *Schema) Resolve() *Schema { return s.refTarget }

// Definitions returns a copy of the root's definitions (name to schema); it
// may be called on any sub-schema and always answers for the root.
func (s *Schema) Definitions() map[string]*Schema { return maps.Clone(s.root.definitions) }

// Path returns the schema's location as JSON Pointer tokens: relative to the
// root, or starting with "definitions", name inside a definition.
func (s *Schema) Path() []string { return slices.Clone(s.path) }
