package jtd

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Coerce returns the properties of obj, an object whose values were all
// read as text (a CSV row, a submitted form: each value a string, or a
// []any of strings for a repeated form field), converted where s, a
// properties-form schema, says what they are: "true"/"false" for a boolean,
// a decimal for a number type, JSON text for an elements, values,
// properties or discriminator form or the empty form, each element of a
// repeated field for an elements form, and a value that is not a JSON
// array for an elements form as a list of that one element (of none when
// it is empty). An empty value of an optional
// property is left out, of a nullable one null. Anything else, including a
// value that does not convert, stays as it is, so that validation then
// names it. obj is not modified.
func Coerce(s *Schema, obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for name, v := range obj {
		sub, optional := s.properties[name], false
		if sub == nil {
			sub, optional = s.optional[name], true
		}
		if sub == nil {
			out[name] = v
			continue
		}
		if text, ok := v.(string); ok && text == "" && (optional || sub.nullable) {
			if !optional {
				out[name] = nil
			}
			continue
		}
		out[name] = coerceValue(sub, v)
	}
	return out
}

func coerceValue(s *Schema, v any) any {
	for s.form == FormRef && s.refTarget != nil {
		s = s.refTarget
	}
	if list, ok := v.([]any); ok {
		if s.form != FormElements {
			return v
		}
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = coerceValue(s.elements, e)
		}
		return out
	}
	text, ok := v.(string)
	if !ok {
		return v
	}
	if text == "null" && s.nullable {
		return nil
	}
	switch s.form {
	case FormType:
		switch s.typ {
		case TypeBoolean:
			switch strings.ToLower(strings.TrimSpace(text)) {
			case "true":
				return true
			case "false":
				return false
			}
		case TypeString, TypeTimestamp:
		default: // a number type
			t := strings.TrimSpace(text)
			if _, err := strconv.ParseFloat(t, 64); err == nil && json.Valid([]byte(t)) {
				return json.Number(t)
			}
		}
	case FormElements, FormValues, FormProperties, FormDiscriminator, FormEmpty:
		t := strings.TrimSpace(text)
		if s.form == FormEmpty || strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
			if json.Valid([]byte(t)) {
				return json.RawMessage(t)
			}
		}
		if s.form == FormElements {
			// A form field given once is a list of one; given empty, of none.
			if t == "" {
				return []any{}
			}
			return []any{coerceValue(s.elements, text)}
		}
	}
	return text
}
