package jtd

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
)

func mustParse(t testing.TB, schema string) *Schema {
	t.Helper()
	s, err := Parse([]byte(schema))
	if err != nil {
		t.Fatalf("Parse(%s): %v", schema, err)
	}
	return s
}

func TestFirstErrorMessage(t *testing.T) {
	f := func(schema, instance, want string) {
		t.Helper()
		errs, err := mustParse(t, schema).ValidateJSON([]byte(instance), Options{})
		if err != nil {
			t.Fatalf("ValidateJSON(%s): %v", instance, err)
		}
		if got := FirstErrorMessage(errs); got != want {
			t.Errorf("schema %s, instance %s:\n got %s\nwant %s", schema, instance, got, want)
		}
	}
	props := `{"properties":{"url":{"type":"string"},"n":{"type":"uint8"}},"optionalProperties":{"tags":{"elements":{"enum":["a","b"]}}}}`
	f(props, `{"url":"x","n":1}`, "")
	f(props, `{"url":1,"n":1}`, `"/url": expected string (schema /properties/url/type)`)
	f(props, `{"url":"x","n":256}`, `"/n": expected uint8 (an integer in 0..255) (schema /properties/n/type)`)
	f(props, `{"n":1}`, `"": missing required property "url" (schema /properties/url)`)
	f(props, `{"url":"x","n":1,"zz":0}`, `"/zz": unexpected property (schema root)`)
	f(props, `{"url":"x","n":1,"tags":["a","c"]}`, `"/tags/1": expected one of "a", "b" (schema /optionalProperties/tags/elements/enum)`)
	f(props, `[]`, `"": expected an object (schema /properties)`)
	f(`{"type":"timestamp","nullable":true}`, `"yesterday"`, `"": expected RFC 3339 timestamp or null (schema /type)`)
	f(`{"values":{"type":"float64"}}`, `{"a/b~":"x"}`, `"/a~1b~0": expected number (schema /values/type)`)
	d := `{"discriminator":"kind","mapping":{"a":{"properties":{}}}}`
	f(d, `{}`, `"": missing discriminator property "kind" (schema /discriminator)`)
	f(d, `{"kind":1}`, `"/kind": expected string (the discriminator) (schema /discriminator)`)
	f(d, `{"kind":"b"}`, `"/kind": unknown discriminator value "b" (schema /mapping)`)
	f(d, `{"kind":"a","x":1}`, `"/x": unexpected property (schema /mapping/a)`)
	f(`{"definitions":{"u":{"type":"string"}},"elements":{"ref":"u"}}`, `[1]`, `"/0": expected string (schema /definitions/u/type)`)

	if got := FirstErrorMessage(nil); got != "" {
		t.Errorf("FirstErrorMessage(nil) = %q", got)
	}
	// Errors built by callers have no reason: it comes from the keyword.
	got := FirstErrorMessage([]ValidationError{{InstancePath: []string{"a"}, SchemaPath: []string{"type"}}})
	if want := `"/a": wrong type (schema /type)`; got != want {
		t.Errorf("caller-built error: got %s, want %s", got, want)
	}
}

func TestMaxErrors(t *testing.T) {
	s := mustParse(t, `{"elements":{"type":"string"}}`)
	inst := `[1,2,3,4,5]`
	f := func(maxErrors int, wantIdx []string) {
		t.Helper()
		errs, err := s.ValidateJSON([]byte(inst), Options{MaxErrors: maxErrors})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range errs {
			got = append(got, e.InstancePath[0])
		}
		if !slices.Equal(got, wantIdx) {
			t.Errorf("MaxErrors %d: got errors at %q, want %q", maxErrors, got, wantIdx)
		}
	}
	f(0, []string{"0", "1", "2", "3", "4"})
	f(1, []string{"0"})
	f(3, []string{"0", "1", "2"})
	f(5, []string{"0", "1", "2", "3", "4"})
	f(9, []string{"0", "1", "2", "3", "4"})
}

func TestMaxDepth(t *testing.T) {
	// A chain of three refs: a -> b -> c -> string.
	chain := mustParse(t, `{"definitions":{"a":{"ref":"b"},"b":{"ref":"c"},"c":{"type":"string"}},"ref":"a"}`)
	loop := mustParse(t, `{"definitions":{"loop":{"ref":"loop"}},"ref":"loop"}`)
	nullableLoop := mustParse(t, `{"definitions":{"loop":{"ref":"loop"}},"ref":"loop","nullable":true}`)
	// Recursion that consumes the instance: a tree of arrays.
	tree := mustParse(t, `{"definitions":{"t":{"elements":{"ref":"t"}}},"ref":"t"}`)
	f := func(name string, s *Schema, inst string, maxDepth int, wantErrs int, wantDepthErr bool) {
		t.Helper()
		errs, err := s.ValidateJSON([]byte(inst), Options{MaxDepth: maxDepth})
		if gotDepth := errors.Is(err, ErrMaxDepth); gotDepth != wantDepthErr {
			t.Fatalf("%s MaxDepth %d: err = %v, want depth error %v", name, maxDepth, err, wantDepthErr)
		}
		if err != nil && !errors.Is(err, base.ErrInvalid) {
			t.Errorf("%s: depth error %v does not wrap base.ErrInvalid", name, err)
		}
		if len(errs) != wantErrs {
			t.Errorf("%s MaxDepth %d: %d errors, want %d", name, maxDepth, len(errs), wantErrs)
		}
	}
	f("chain", chain, `"x"`, 0, 0, false)
	f("chain", chain, `"x"`, 3, 0, false)
	f("chain", chain, `1`, 3, 1, false)
	f("chain", chain, `"x"`, 2, 0, true)
	f("chain", chain, `"x"`, 1, 0, true)
	f("loop", loop, `1`, 10, 0, true)
	f("loop", loop, `1`, 0, 0, true) // hard limit, no stack exhaustion
	f("nullable loop", nullableLoop, `null`, 0, 0, false)
	f("tree", tree, `[[[]],[]]`, 3, 0, false)
	f("tree", tree, `[[[]],[]]`, 2, 0, true)
	f("tree", tree, `[[[1]]]`, 0, 1, false)
}

func TestValidateJSONRejectsBadJSON(t *testing.T) {
	s := mustParse(t, `{}`)
	for _, in := range []string{``, `{`, `1 2`, `{"a":1}x`, `nul`} {
		if _, err := s.ValidateJSON([]byte(in), Options{}); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("ValidateJSON(%q) err = %v, want base.ErrInvalid", in, err)
		}
	}
	if errs, err := s.ValidateJSON([]byte(" {\"a\":[1,2]} \n"), Options{}); err != nil || errs != nil {
		t.Errorf("ValidateJSON(valid) = %v, %v", errs, err)
	}
}

func TestParseErrorsNameThePlace(t *testing.T) {
	f := func(schema, wantSubstr string) {
		t.Helper()
		_, err := Parse([]byte(schema))
		if err == nil {
			t.Fatalf("Parse(%s) accepted", schema)
		}
		if !errors.Is(err, base.ErrInvalid) {
			t.Errorf("Parse(%s): %v does not wrap base.ErrInvalid", schema, err)
		}
		if !strings.Contains(err.Error(), wantSubstr) {
			t.Errorf("Parse(%s) = %q, want it to contain %q", schema, err, wantSubstr)
		}
	}
	f(`{"properties":{"a":{"type":"strin"}}}`, `schema /properties/a/type: unknown type "strin"`)
	f(`{"elements":{"foo":1}}`, `schema /elements: unknown keyword "foo"`)
	f(`{"type":"string","enum":["a"]}`, `schema root: keywords "enum" and "type" cannot be used together`)
	f(`{"enum":["a","b","a"]}`, `schema /enum/2: enum value "a" appears twice`)
	f(`{"enum":[]}`, `schema /enum: enum must not be empty`)
	f(`{"definitions":{"x":{}},"values":{"ref":"y"}}`, `schema /values/ref: ref "y" names no definition`)
	f(`{"properties":{"a":{}},"optionalProperties":{"a":{}}}`, `schema /optionalProperties/a: property "a" is in both`)
	f(`{"discriminator":"k","mapping":{"x":{"properties":{"k":{}}}}}`, `schema /mapping/x/properties/k: mapping value redefines the discriminator "k"`)
	f(`{"discriminator":"k","mapping":{"x":{"type":"string"}}}`, `schema /mapping/x: a mapping value must be of the properties form, not type`)
	f(`{"discriminator":"k","mapping":{"x":{"properties":{},"nullable":true}}}`, `schema /mapping/x/nullable: a mapping value must not be nullable`)
	f(`{"elements":{"definitions":{}}}`, `schema /elements/definitions: definitions are allowed only at the root`)
	f(`{"additionalProperties":true}`, `additionalProperties needs properties or optionalProperties`)
	f(`{"mapping":{}}`, `mapping needs discriminator`)
	f(`{"metadata":1}`, `schema /metadata: metadata must be an object, not a number`)
	f(`{"properties":{"a/b":{"type":1}}}`, `schema /properties/a~1b/type: type must be a string`)
	f(`{} x`, `not valid JSON`)
	f(`[]`, `a schema must be a JSON object, not an array`)
}

func TestAccessors(t *testing.T) {
	s := mustParse(t, `{
		"metadata": {"description": "an order"},
		"definitions": {"money": {"type": "float64", "nullable": true}},
		"properties": {"id": {"type": "uint32"}, "total": {"ref": "money"}, "tags": {"elements": {"type": "string"}}},
		"optionalProperties": {"attrs": {"values": {"type": "string"}}, "status": {"enum": ["new", "paid"]},
			"payment": {"discriminator": "kind", "mapping": {"card": {"properties": {"last4": {"type": "string"}}, "additionalProperties": true}}}},
		"additionalProperties": false
	}`)
	if s.Form() != FormProperties || s.Form().String() != "properties" || s.AdditionalProperties() || s.Nullable() {
		t.Fatalf("root: form %s additional %v nullable %v", s.Form(), s.AdditionalProperties(), s.Nullable())
	}
	if s.Metadata()["description"] != "an order" {
		t.Errorf("metadata = %v", s.Metadata())
	}
	req, opt := s.PropertyNames()
	if !slices.Equal(req, []string{"id", "tags", "total"}) || !slices.Equal(opt, []string{"attrs", "payment", "status"}) {
		t.Errorf("PropertyNames = %q, %q", req, opt)
	}
	props, opts := s.Properties(), s.OptionalProperties()
	if props["id"].Type() != TypeUint32 || props["id"].Form() != FormType {
		t.Errorf("id: %s %s", props["id"].Form(), props["id"].Type())
	}
	total := props["total"]
	if total.Form() != FormRef || total.Ref() != "money" || total.Resolve().Type() != TypeFloat64 || !total.Resolve().Nullable() {
		t.Errorf("total: %s %q", total.Form(), total.Ref())
	}
	if !slices.Equal(total.Resolve().Path(), []string{"definitions", "money"}) {
		t.Errorf("money path = %q", total.Resolve().Path())
	}
	if el := props["tags"].Elements(); el == nil || el.Type() != TypeString || props["tags"].Values() != nil {
		t.Errorf("tags elements = %v", el)
	}
	if v := opts["attrs"].Values(); v == nil || v.Type() != TypeString || opts["attrs"].Elements() != nil {
		t.Errorf("attrs values = %v", v)
	}
	if e := opts["status"].Enum(); !slices.Equal(e, []string{"new", "paid"}) {
		t.Errorf("status enum = %q", e)
	}
	tag, mapping := opts["payment"].Discriminator()
	if tag != "kind" || len(mapping) != 1 || !mapping["card"].AdditionalProperties() {
		t.Errorf("payment: tag %q mapping %v", tag, mapping)
	}
	if defs := mapping["card"].Definitions(); len(defs) != 1 || defs["money"] == nil {
		t.Errorf("Definitions from a sub-schema = %v", defs)
	}
	// Returned collections are copies.
	props["id"] = nil
	if s.Properties()["id"] == nil {
		t.Error("Properties() exposed the schema's own map")
	}
	// A sub-schema validates on its own, resolving refs through the root.
	errs, err := total.Validate(json.Number("1.5"), Options{})
	if err != nil || len(errs) != 0 {
		t.Errorf("sub-schema Validate = %v, %v", errs, err)
	}
	errs, _ = total.Validate("x", Options{})
	if len(errs) != 1 || !slices.Equal(errs[0].SchemaPath, []string{"definitions", "money", "type"}) {
		t.Errorf("sub-schema error = %v", errs)
	}
}

func TestIntegerTypesAreExact(t *testing.T) {
	f := func(typ, num string, want bool) {
		t.Helper()
		s := mustParse(t, `{"type":"`+typ+`"}`)
		errs, err := s.ValidateJSON([]byte(num), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(errs) == 0; got != want {
			t.Errorf("%s accepts %s = %v, want %v", typ, num, got, want)
		}
	}
	f("uint8", "1.0", true)
	f("uint8", "1.00000000000000000001", false)
	f("uint8", "1e2", true)
	f("uint8", "1E+2", true)
	f("uint8", "2.55e2", true)
	f("uint8", "2.555e2", false)
	f("uint8", "25500e-2", true)
	f("uint8", "25501e-2", false)
	f("uint8", "-0", true)
	f("uint8", "-0.0e5", true)
	f("uint8", "0e999999999999", true)
	f("uint8", "1e-999999999999", false)
	f("uint32", "4294967295", true)
	f("uint32", "4294967295.0", true)
	f("uint32", "4294967295.0000000000001", false)
	f("uint32", "4294967296", false)
	f("uint32", "1e999999999999", false)
	f("int32", "-2147483648", true)
	f("int32", "-2147483649", false)
	f("int32", "-2.147483648e9", true)
	f("int16", "32767", true)
	f("int16", "32768", false)
	f("int16", "-32768", true)
	f("int8", "-128", true)
	f("int8", "-129", false)
	f("int8", "99999999999999999999999999", false)
	f("uint16", "65535", true)
	f("uint16", "65536", false)
	f("float32", "1e400", true)
	f("float64", "-0.5", true)
	f("float64", `"1"`, false)
}

func TestGoNumberTypes(t *testing.T) {
	s := mustParse(t, `{"type":"int8"}`)
	f := func(inst any, want bool) {
		t.Helper()
		errs, _ := s.Validate(inst, Options{})
		if got := len(errs) == 0; got != want {
			t.Errorf("int8 accepts %T(%v) = %v, want %v", inst, inst, got, want)
		}
	}
	f(int(5), true)
	f(int64(200), false)
	f(uint64(1<<63), false)
	f(float64(-128), true)
	f(float32(1.5), false)
	f(json.Number("12"), true)
	f(json.Number("abc"), false)
	f(struct{}{}, false)
}

func TestTimestamps(t *testing.T) {
	f := func(ts string, want bool) {
		t.Helper()
		if got := isTimestamp(ts); got != want {
			t.Errorf("isTimestamp(%q) = %v, want %v", ts, got, want)
		}
	}
	f("1985-04-12T23:20:50.52Z", true)
	f("1996-12-19T16:39:57-08:00", true)
	f("1990-12-31T23:59:60Z", true)
	f("1990-12-31T15:59:60-08:00", true)
	f("1937-01-01T12:00:27.87+00:20", true)
	f("2024-02-29t00:00:00z", true)
	f("2023-02-29T00:00:00Z", false)
	f("2000-02-29T00:00:00Z", true)
	f("1900-02-29T00:00:00Z", false)
	f("2024-04-31T00:00:00Z", false)
	f("2024-13-01T00:00:00Z", false)
	f("2024-01-01T24:00:00Z", false)
	f("2024-01-01T00:60:00Z", false)
	f("2024-01-01T00:00:61Z", false)
	f("2024-01-01T00:00:00", false)
	f("2024-01-01T00:00:00.Z", false)
	f("2024-01-01 00:00:00Z", false)
	f("2024-01-01T00:00:00+0100", false)
	f("2024-01-01T00:00:00+24:00", false)
	f("2024-1-01T00:00:00Z", false)
	f("2024-01-01T00:00:00ZZ", false)
	f("", false)
}

// TestSchemaNesting: schemas nested up to MaxSchemaNesting deep parse;
// deeper ones are refused (quickly) with an error naming the place.
func TestSchemaNesting(t *testing.T) {
	nested := func(depth int) []byte {
		// depth schemas: elements inside elements, a string at the bottom.
		return []byte(strings.Repeat(`{"elements":`, depth-1) + `{"type":"string"}` + strings.Repeat(`}`, depth-1))
	}
	if _, err := Parse(nested(MaxSchemaNesting)); err != nil {
		t.Fatalf("%d levels: %v", MaxSchemaNesting, err)
	}
	for _, depth := range []int{MaxSchemaNesting + 1, 5000} {
		_, err := Parse(nested(depth))
		if !errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), "nest more than") ||
			!strings.Contains(err.Error(), "/elements/elements") {
			t.Fatalf("%d levels: %v, want an invalid-schema error naming the place", depth, err)
		}
	}
}
