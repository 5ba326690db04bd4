package schema

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"go.yaml.in/yaml/v3"

	"github.com/ducktail/ducktail/base"
)

// Field is one payload field as written in config and JSON:
//
//	{"name": "x", "type": "int64", "nullable": true}
//
// Type is an Arrow type name in the grammar of ParseType. When "nullable" is
// absent from the JSON or YAML, Nullable is true (the custom UnmarshalJSON
// and UnmarshalYAML see to it; a zero Field built in Go has Nullable false).
// Unknown keys are an error naming the key.
type Field struct {
	Name     string `json:"name" yaml:"name"`
	Type     string `json:"type" yaml:"type"`
	Nullable bool   `json:"nullable" yaml:"nullable"`
}

// fieldDoc is Field as decoded, with Nullable optional.
type fieldDoc struct {
	Name     string `json:"name" yaml:"name"`
	Type     string `json:"type" yaml:"type"`
	Nullable *bool  `json:"nullable" yaml:"nullable"`
}

func (d fieldDoc) field() Field {
	return Field{Name: d.Name, Type: d.Type, Nullable: d.Nullable == nil || *d.Nullable}
}

// UnmarshalJSON decodes a field, defaulting Nullable to true and refusing
// unknown keys.
func (f *Field) UnmarshalJSON(b []byte) error {
	var d fieldDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return base.Errorf(base.ErrInvalid, "schema field: %w", err)
	}
	*f = d.field()
	return nil
}

// UnmarshalYAML decodes a field, defaulting Nullable to true and refusing
// unknown keys with their line number.
func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return base.Errorf(base.ErrInvalid, "line %d: schema field: want a mapping with name, type, nullable", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "name", "type", "nullable":
		default:
			return base.Errorf(base.ErrInvalid, "line %d: schema field: unknown key %q (want name, type, nullable)", k.Line, k.Value)
		}
	}
	var d fieldDoc
	if err := n.Decode(&d); err != nil {
		return base.Errorf(base.ErrInvalid, "line %d: schema field: %w", n.Line, err)
	}
	*f = d.field()
	return nil
}

// FromFields builds a payload schema from declared fields. Names must pass
// base.ValidateFieldName (non-empty, no leading '_') and be unique; types must
// parse with ParseType. Errors wrap base.ErrInvalid and name the field (by
// position when its name is empty). FromFields does not check that the types
// can be stored: see CheckStorable, or TopicFromFields for both.
func FromFields(fields []Field) (*arrow.Schema, error) {
	out := make([]arrow.Field, 0, len(fields))
	seen := make(map[string]struct{}, len(fields))
	for i, f := range fields {
		if f.Name == "" {
			return nil, base.Errorf(base.ErrInvalid, "fields[%d]: field name is empty", i)
		}
		if err := base.ValidateFieldName(f.Name); err != nil {
			return nil, err
		}
		if _, dup := seen[f.Name]; dup {
			return nil, base.Errorf(base.ErrInvalid, "field %q: declared more than once", f.Name)
		}
		seen[f.Name] = struct{}{}
		t, err := ParseType(f.Type)
		if err != nil {
			return nil, base.Errorf(base.ErrInvalid, "field %q: %w", f.Name, err)
		}
		out = append(out, arrow.Field{Name: f.Name, Type: t, Nullable: f.Nullable})
	}
	return arrow.NewSchema(out, nil), nil
}

// TopicFromFields is FromFields followed by CheckTopic: the schema of a
// topic that can be declared in config or through the admin API.
func TopicFromFields(fields []Field) (*arrow.Schema, error) {
	s, err := FromFields(fields)
	if err != nil {
		return nil, err
	}
	if err := CheckTopic(s); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckTopic is CheckStorable then CheckQueryable: whether s can be a
// topic's payload.
func CheckTopic(s *arrow.Schema) error {
	if err := CheckStorable(s); err != nil {
		return err
	}
	return CheckQueryable(s)
}

// ToFields describes a schema's top-level fields with FormatType names.
// Metadata is dropped.
func ToFields(s *arrow.Schema) []Field {
	out := make([]Field, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = Field{Name: f.Name, Type: FormatType(f.Type), Nullable: f.Nullable}
	}
	return out
}

// String returns "name type" or "name type not null".
func (f Field) String() string {
	if f.Nullable {
		return fmt.Sprintf("%s %s", f.Name, f.Type)
	}
	return fmt.Sprintf("%s %s not null", f.Name, f.Type)
}
