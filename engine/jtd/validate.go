package jtd

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ducktail/ducktail/base"
)

// ValidationError is the RFC 8927 error indicator: where in the instance the
// problem is and which schema keyword rejected it, both as JSON Pointer
// tokens. Validate also records a human-readable reason, used by String.
type ValidationError struct {
	InstancePath []string
	SchemaPath   []string

	reason string // e.g. "expected string"; empty for errors built by callers
}

// String renders the error for a client, e.g.
// `"/url": expected string (schema /properties/url/type)`.
func (e ValidationError) String() string {
	reason := e.reason
	if reason == "" {
		reason = reasonFromPath(e.SchemaPath)
	}
	sp := Pointer(e.SchemaPath)
	if sp == "" {
		sp = "root"
	}
	return strconv.Quote(Pointer(e.InstancePath)) + ": " + reason + " (schema " + sp + ")"
}

// FirstErrorMessage renders the first error of errs for a 400 response body,
// as ValidationError.String does; it returns "" when errs is empty.
func FirstErrorMessage(errs []ValidationError) string {
	if len(errs) == 0 {
		return ""
	}
	return errs[0].String()
}

func reasonFromPath(sp []string) string {
	if len(sp) == 0 {
		return "unexpected property"
	}
	switch sp[len(sp)-1] {
	case "type":
		return "wrong type"
	case "enum":
		return "not one of the allowed values"
	case "elements":
		return "expected an array"
	case "values", "discriminator":
		return "expected an object"
	case "mapping":
		return "unknown discriminator value"
	}
	return "does not match the schema"
}

// Options bound a validation. The zero value validates without limits.
type Options struct {
	// MaxDepth is the maximum number of refs followed one inside another
	// (RFC 8927 section 3.3's "max depth", which guards against circular
	// schemas such as {"definitions":{"a":{"ref":"a"}},"ref":"a"}). Going
	// deeper makes Validate fail with ErrMaxDepth. 0 means no limit of the
	// caller's; a hard limit of HardMaxDepth still applies so that a circular
	// schema cannot exhaust the stack.
	MaxDepth int
	// MaxErrors stops validation once this many errors have been found and
	// returns them. 0 means report every error.
	MaxErrors int
}

// HardMaxDepth is the ref depth at which Validate gives up even when
// Options.MaxDepth is 0.
const HardMaxDepth = 1 << 16

// ErrMaxDepth is wrapped by the error Validate returns when refs nest deeper
// than Options.MaxDepth (or HardMaxDepth). That error also wraps
// base.ErrInvalid.
var ErrMaxDepth = errors.New("jtd: max depth exceeded")

// errEnough stops validation once Options.MaxErrors errors were found. It
// never leaves the package.
var errEnough = errors.New("jtd: enough errors")

// Validate evaluates instance against the schema as RFC 8927 section 3.3
// describes and returns the errors it finds, nil when the instance is valid.
// instance is a decoded JSON value: nil, bool, string, a number (json.Number
// for exact integer checks, or float64 or a Go integer type), []any or
// map[string]any; any other Go type matches only the empty form. The error
// is non-nil only when refs nest too deep (ErrMaxDepth).
func (s *Schema) Validate(instance any, opts Options) ([]ValidationError, error) {
	var buf [16]token
	v := validator{maxErrors: opts.MaxErrors, maxDepth: opts.MaxDepth, path: buf[:0]}
	if v.maxDepth <= 0 || v.maxDepth > HardMaxDepth {
		v.maxDepth = HardMaxDepth
	}
	err := v.validate(s, instance, nil)
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return v.errs, nil
}

// ValidateJSON decodes instance (one JSON value) and validates it. Malformed
// JSON is an error wrapping base.ErrInvalid.
func (s *Schema) ValidateJSON(instance []byte, opts Options) ([]ValidationError, error) {
	v, err := DecodeJSON(instance)
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "jtd: instance is not valid JSON: %w", err)
	}
	return s.Validate(v, opts)
}

// token is one step of the instance path: an object key, or an array index
// when idx >= 0 (rendered only if an error needs it).
type token struct {
	key string
	idx int
}

type validator struct {
	maxErrors int
	maxDepth  int
	depth     int
	errs      []ValidationError
	path      []token
}

func (v *validator) push(key string) { v.path = append(v.path, token{key: key, idx: -1}) }
func (v *validator) pop()            { v.path = v.path[:len(v.path)-1] }

// fail records an error at the current instance path whose schema path is
// s's path followed by toks.
func (v *validator) fail(s *Schema, reason string, toks ...string) error {
	ip := make([]string, len(v.path))
	for i, t := range v.path {
		if t.idx >= 0 {
			ip[i] = strconv.Itoa(t.idx)
		} else {
			ip[i] = t.key
		}
	}
	v.errs = append(v.errs, ValidationError{InstancePath: ip, SchemaPath: child(s.path, toks...), reason: reason})
	if v.maxErrors > 0 && len(v.errs) >= v.maxErrors {
		return errEnough
	}
	return nil
}

// validate checks inst against s. tag is the discriminator property of the
// enclosing discriminator schema when s is one of its mapping values.
func (v *validator) validate(s *Schema, inst any, tag *string) error {
	if s.nullable && inst == nil {
		return nil
	}
	switch s.form {
	case FormRef:
		if v.depth >= v.maxDepth {
			return base.Errorf(base.ErrInvalid, "jtd: more than %d nested refs at schema %s: %w", v.maxDepth, Pointer(child(s.path, "ref")), ErrMaxDepth)
		}
		v.depth++
		err := v.validate(s.refTarget, inst, nil)
		v.depth--
		return err
	case FormType:
		if !matchesType(s.typ, inst) {
			return v.fail(s, typeReason(s), "type")
		}
	case FormEnum:
		str, ok := inst.(string)
		if _, in := s.enumSet[str]; !ok || !in {
			return v.fail(s, enumReason(s), "enum")
		}
	case FormElements:
		arr, ok := inst.([]any)
		if !ok {
			return v.fail(s, "expected an array", "elements")
		}
		for i, e := range arr {
			v.path = append(v.path, token{idx: i})
			err := v.validate(s.elements, e, nil)
			v.pop()
			if err != nil {
				return err
			}
		}
	case FormProperties:
		return v.validateProperties(s, inst, tag)
	case FormValues:
		obj, ok := inst.(map[string]any)
		if !ok {
			return v.fail(s, "expected an object", "values")
		}
		for _, k := range sortedKeys(obj) {
			v.push(k)
			err := v.validate(s.elements, obj[k], nil)
			v.pop()
			if err != nil {
				return err
			}
		}
	case FormDiscriminator:
		return v.validateDiscriminator(s, inst)
	}
	return nil
}

func (v *validator) validateProperties(s *Schema, inst any, tag *string) error {
	obj, ok := inst.(map[string]any)
	if !ok {
		kw := "optionalProperties"
		if s.hasProperties {
			kw = "properties"
		}
		return v.fail(s, "expected an object", kw)
	}
	for _, name := range s.propNames {
		val, ok := obj[name]
		if !ok {
			if err := v.fail(s, fmt.Sprintf("missing required property %q", name), "properties", name); err != nil {
				return err
			}
			continue
		}
		v.push(name)
		err := v.validate(s.properties[name], val, nil)
		v.pop()
		if err != nil {
			return err
		}
	}
	for _, name := range s.optNames {
		val, ok := obj[name]
		if !ok {
			continue
		}
		v.push(name)
		err := v.validate(s.optional[name], val, nil)
		v.pop()
		if err != nil {
			return err
		}
	}
	if s.additional {
		return nil
	}
	var extra []string
	for k := range obj {
		if tag != nil && k == *tag {
			continue
		}
		if _, ok := s.properties[k]; ok {
			continue
		}
		if _, ok := s.optional[k]; ok {
			continue
		}
		extra = append(extra, k)
	}
	slices.Sort(extra)
	for _, k := range extra {
		v.push(k)
		err := v.fail(s, "unexpected property")
		v.pop()
		if err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) validateDiscriminator(s *Schema, inst any) error {
	obj, ok := inst.(map[string]any)
	if !ok {
		return v.fail(s, "expected an object", "discriminator")
	}
	tv, ok := obj[s.tag]
	if !ok {
		return v.fail(s, fmt.Sprintf("missing discriminator property %q", s.tag), "discriminator")
	}
	str, ok := tv.(string)
	if !ok {
		v.push(s.tag)
		err := v.fail(s, "expected string (the discriminator)", "discriminator")
		v.pop()
		return err
	}
	m, ok := s.mapping[str]
	if !ok {
		v.push(s.tag)
		err := v.fail(s, fmt.Sprintf("unknown discriminator value %q", str), "mapping")
		v.pop()
		return err
	}
	return v.validate(m, inst, &s.tag)
}

func matchesType(t Type, inst any) bool {
	switch t {
	case TypeBoolean:
		_, ok := inst.(bool)
		return ok
	case TypeString:
		_, ok := inst.(string)
		return ok
	case TypeTimestamp:
		str, ok := inst.(string)
		return ok && isTimestamp(str)
	case TypeFloat32, TypeFloat64:
		_, ok := numberValue(inst)
		return ok
	}
	n, ok := numberValue(inst)
	if !ok || !n.isInt || n.big {
		return false
	}
	lo, hi := intRange(t)
	return n.n >= lo && n.n <= hi
}

func typeReason(s *Schema) string {
	var want string
	switch s.typ {
	case TypeFloat32, TypeFloat64:
		want = "number"
	case TypeTimestamp:
		want = "RFC 3339 timestamp"
	case TypeBoolean, TypeString:
		want = string(s.typ)
	default:
		lo, hi := intRange(s.typ)
		want = fmt.Sprintf("%s (an integer in %d..%d)", s.typ, lo, hi)
	}
	if s.nullable {
		want += " or null"
	}
	return "expected " + want
}

func enumReason(s *Schema) string {
	const show = 5
	var b strings.Builder
	b.WriteString("expected one of ")
	for i, e := range s.enum {
		if i == show {
			fmt.Fprintf(&b, ", ... (%d values)", len(s.enum))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(e))
	}
	if s.nullable {
		b.WriteString(" or null")
	}
	return b.String()
}
