package jtd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ducktail/ducktail/base"
)

// isKeyword reports whether k is a member a schema object may have (RFC
// 8927 section 2.1).
func isKeyword(k string) bool {
	if _, ok := formOf(k); ok {
		return true
	}
	return k == "definitions" || k == "nullable" || k == "metadata"
}

// formOf maps each form keyword to the form it selects.
func formOf(keyword string) (Form, bool) {
	switch keyword {
	case "ref":
		return FormRef, true
	case "type":
		return FormType, true
	case "enum":
		return FormEnum, true
	case "elements":
		return FormElements, true
	case "properties", "optionalProperties", "additionalProperties":
		return FormProperties, true
	case "values":
		return FormValues, true
	case "discriminator", "mapping":
		return FormDiscriminator, true
	}
	return FormEmpty, false
}

func validType(t string) bool {
	switch Type(t) {
	case TypeBoolean, TypeString, TypeTimestamp, TypeFloat32, TypeFloat64,
		TypeInt8, TypeUint8, TypeInt16, TypeUint16, TypeInt32, TypeUint32:
		return true
	}
	return false
}

// Parse parses a JTD schema from JSON and checks that it is correct in the
// sense of RFC 8927 section 2. The error, if any, wraps base.ErrInvalid and
// names the offending place as a JSON Pointer into the schema.
func Parse(data []byte) (*Schema, error) {
	v, err := DecodeJSON(data)
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "jtd: schema is not valid JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(nil, "a schema must be a JSON object, not %s", jsonKind(v))
	}
	root := &Schema{path: []string{}}
	root.root = root
	p := parser{root: root, depth: 1} // the root is the first level
	if d, ok := obj["definitions"]; ok {
		defs, ok := d.(map[string]any)
		if !ok {
			return nil, schemaErr([]string{"definitions"}, "definitions must be an object, not %s", jsonKind(d))
		}
		root.definitions = make(map[string]*Schema, len(defs))
		for _, name := range sortedKeys(defs) {
			sub, err := p.parse(defs[name], []string{"definitions", name})
			if err != nil {
				return nil, err
			}
			root.definitions[name] = sub
		}
	}
	if err := p.fill(root, obj, true); err != nil {
		return nil, err
	}
	for _, r := range p.refs {
		target, ok := root.definitions[r.ref]
		if !ok {
			return nil, schemaErr(child(r.path, "ref"), "ref %q names no definition at the root", r.ref)
		}
		r.refTarget = target
	}
	return root, nil
}

// MaxSchemaNesting is how deeply schemas may nest inside one another in a
// schema document. RFC 8927 sets no limit, but every schema keeps its path
// for error messages, so parsing costs grow with the square of the depth
// (a 5,000-deep schema took a second); a type's columns may nest only 32
// levels anyway (engine/jtdarrow).
const MaxSchemaNesting = 256

// parser holds the state of one Parse call.
type parser struct {
	root  *Schema
	refs  []*Schema // ref-form schemas, resolved once all definitions are known
	depth int       // schemas being parsed, one inside the other
}

func (p *parser) parse(v any, path []string) (*Schema, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(path, "a schema must be a JSON object, not %s", jsonKind(v))
	}
	if p.depth++; p.depth > MaxSchemaNesting {
		return nil, schemaErr(path, "schemas nest more than %d levels deep", MaxSchemaNesting)
	}
	defer func() { p.depth-- }()
	s := &Schema{root: p.root, path: path}
	if err := p.fill(s, obj, false); err != nil {
		return nil, err
	}
	return s, nil
}

// fill checks the schema object obj located at s.path and sets s from it.
// Definitions have already been parsed when s is the root.
func (p *parser) fill(s *Schema, obj map[string]any, isRoot bool) error {
	path := s.path
	var formKeys []string
	for _, k := range sortedKeys(obj) {
		if !isKeyword(k) {
			return schemaErr(path, "unknown keyword %q", k)
		}
		if k == "definitions" && !isRoot {
			return schemaErr(child(path, k), "definitions are allowed only at the root")
		}
		if f, ok := formOf(k); ok {
			if len(formKeys) > 0 {
				if f0, _ := formOf(formKeys[0]); f0 != f {
					return schemaErr(path, "keywords %q and %q cannot be used together: a schema has exactly one form", formKeys[0], k)
				}
			}
			formKeys = append(formKeys, k)
			s.form = f
		}
	}
	if v, ok := obj["nullable"]; ok {
		b, ok := v.(bool)
		if !ok {
			return schemaErr(child(path, "nullable"), "nullable must be a boolean, not %s", jsonKind(v))
		}
		s.nullable = b
	}
	if v, ok := obj["metadata"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return schemaErr(child(path, "metadata"), "metadata must be an object, not %s", jsonKind(v))
		}
		s.metadata = m
	}
	switch s.form {
	case FormRef:
		name, ok := obj["ref"].(string)
		if !ok {
			return schemaErr(child(path, "ref"), "ref must be a string, not %s", jsonKind(obj["ref"]))
		}
		s.ref = name
		p.refs = append(p.refs, s)
	case FormType:
		t, ok := obj["type"].(string)
		if !ok {
			return schemaErr(child(path, "type"), "type must be a string, not %s", jsonKind(obj["type"]))
		}
		if !validType(t) {
			return schemaErr(child(path, "type"), "unknown type %q (want boolean, string, timestamp, float32, float64, int8, uint8, int16, uint16, int32 or uint32)", t)
		}
		s.typ = Type(t)
	case FormEnum:
		return fillEnum(s, obj["enum"])
	case FormElements, FormValues:
		kw := "elements"
		if s.form == FormValues {
			kw = "values"
		}
		sub, err := p.parse(obj[kw], child(path, kw))
		if err != nil {
			return err
		}
		s.elements = sub
	case FormProperties:
		return p.fillProperties(s, obj)
	case FormDiscriminator:
		return p.fillDiscriminator(s, obj)
	}
	return nil
}

func fillEnum(s *Schema, v any) error {
	path := child(s.path, "enum")
	arr, ok := v.([]any)
	if !ok {
		return schemaErr(path, "enum must be an array of strings, not %s", jsonKind(v))
	}
	if len(arr) == 0 {
		return schemaErr(path, "enum must not be empty")
	}
	s.enum = make([]string, 0, len(arr))
	s.enumSet = make(map[string]struct{}, len(arr))
	for i, e := range arr {
		str, ok := e.(string)
		if !ok {
			return schemaErr(child(path, fmt.Sprint(i)), "enum values must be strings, not %s", jsonKind(e))
		}
		if _, dup := s.enumSet[str]; dup {
			return schemaErr(child(path, fmt.Sprint(i)), "enum value %q appears twice", str)
		}
		s.enum = append(s.enum, str)
		s.enumSet[str] = struct{}{}
	}
	return nil
}

func (p *parser) fillProperties(s *Schema, obj map[string]any) error {
	path := s.path
	props, hasProps := obj["properties"]
	opts, hasOpts := obj["optionalProperties"]
	if !hasProps && !hasOpts {
		return schemaErr(path, "additionalProperties needs properties or optionalProperties")
	}
	var err error
	if hasProps {
		s.hasProperties = true
		if s.properties, s.propNames, err = p.parseMap(props, child(path, "properties")); err != nil {
			return err
		}
	}
	if hasOpts {
		s.hasOptional = true
		if s.optional, s.optNames, err = p.parseMap(opts, child(path, "optionalProperties")); err != nil {
			return err
		}
	}
	for _, name := range s.optNames {
		if _, dup := s.properties[name]; dup {
			return schemaErr(child(path, "optionalProperties", name), "property %q is in both properties and optionalProperties", name)
		}
	}
	if v, ok := obj["additionalProperties"]; ok {
		b, ok := v.(bool)
		if !ok {
			return schemaErr(child(path, "additionalProperties"), "additionalProperties must be a boolean, not %s", jsonKind(v))
		}
		s.additional = b
	}
	return nil
}

func (p *parser) fillDiscriminator(s *Schema, obj map[string]any) error {
	path := s.path
	tv, hasTag := obj["discriminator"]
	mv, hasMapping := obj["mapping"]
	switch {
	case !hasTag:
		return schemaErr(path, "mapping needs discriminator")
	case !hasMapping:
		return schemaErr(path, "discriminator needs mapping")
	}
	tag, ok := tv.(string)
	if !ok {
		return schemaErr(child(path, "discriminator"), "discriminator must be a string, not %s", jsonKind(tv))
	}
	s.tag = tag
	mapping, names, err := p.parseMap(mv, child(path, "mapping"))
	if err != nil {
		return err
	}
	for _, name := range names {
		m := mapping[name]
		switch {
		case m.form != FormProperties:
			return schemaErr(m.path, "a mapping value must be of the properties form, not %s", m.form)
		case m.nullable:
			return schemaErr(child(m.path, "nullable"), "a mapping value must not be nullable")
		}
		if _, dup := m.properties[tag]; dup {
			return schemaErr(child(m.path, "properties", tag), "mapping value redefines the discriminator %q", tag)
		}
		if _, dup := m.optional[tag]; dup {
			return schemaErr(child(m.path, "optionalProperties", tag), "mapping value redefines the discriminator %q", tag)
		}
	}
	s.mapping = mapping
	return nil
}

// parseMap parses an object of schemas (properties, optionalProperties,
// mapping) located at path.
func (p *parser) parseMap(v any, path []string) (map[string]*Schema, []string, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, nil, schemaErr(path, "%s must be an object of schemas, not %s", path[len(path)-1], jsonKind(v))
	}
	names := sortedKeys(obj)
	out := make(map[string]*Schema, len(obj))
	for _, name := range names {
		sub, err := p.parse(obj[name], child(path, name))
		if err != nil {
			return nil, nil, err
		}
		out[name] = sub
	}
	return out, names, nil
}

// child returns a new token list: path followed by toks.
func child(path []string, toks ...string) []string {
	out := make([]string, 0, len(path)+len(toks))
	return append(append(out, path...), toks...)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func schemaErr(path []string, format string, args ...any) error {
	where := "root"
	if len(path) > 0 {
		where = Pointer(path)
	}
	return base.Errorf(base.ErrInvalid, "jtd: schema %s: %s", where, fmt.Sprintf(format, args...))
}

// Pointer renders JSON Pointer tokens as an RFC 6901 pointer: "" for no
// tokens, otherwise "/" before each token with "~" and "/" escaped.
func Pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		if strings.ContainsAny(t, "~/") {
			t = strings.NewReplacer("~", "~0", "/", "~1").Replace(t)
		}
		b.WriteString(t)
	}
	return b.String()
}

// jsonKind names the JSON type of a decoded value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	if _, ok := numberValue(v); ok {
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

// DecodeJSON decodes exactly one JSON value the way Validate takes
// instances: numbers as json.Number, so that integer checks are exact.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}
