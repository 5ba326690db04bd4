package jtd

import (
	"encoding/json"
	"errors"
	"github.com/ducktail/ducktail/internal/sharedtest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// fuzzSchemas are the schemas FuzzValidate checks instances against: one of
// each form, nested, with refs, a recursive definition and a discriminator.
var fuzzSchemas = []string{
	`{}`,
	`{"type":"timestamp","nullable":true}`,
	`{"type":"uint32"}`,
	`{"type":"int8"}`,
	`{"type":"float32"}`,
	`{"enum":["a","b","c"]}`,
	`{"elements":{"type":"boolean"}}`,
	`{"values":{"type":"string","nullable":true}}`,
	`{"properties":{"a":{"type":"string"},"b":{"elements":{"type":"int16"}}},"optionalProperties":{"c":{"values":{}}}}`,
	`{"optionalProperties":{"x":{}},"additionalProperties":true}`,
	`{"discriminator":"k","mapping":{"a":{"properties":{"n":{"type":"uint8"}}},"b":{"optionalProperties":{"s":{"type":"string"}}}}}`,
	`{"definitions":{"node":{"properties":{"v":{"type":"int32"}},"optionalProperties":{"kids":{"elements":{"ref":"node"}}}}},"ref":"node"}`,
	`{"definitions":{"loop":{"ref":"loop"}},"ref":"loop","nullable":true}`,
}

// fuzzInstances are fixed instances FuzzParse validates against accepted
// schemas.
var fuzzInstances = []string{
	`null`, `true`, `1`, `-1.5`, `"2020-01-01T00:00:00Z"`, `"a"`, `[]`, `[1,"a",null]`, `{}`,
	`{"a":"x","b":[1,2],"k":"a","n":3}`, `{"k":"b","s":1,"extra":[]}`,
}

func vectorSeeds(f *testing.F) (schemas, instances [][]byte) {
	dir, ok := sharedtest.Find()
	if !ok {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "testdata", "jtd", "validation.json"))
	if err != nil {
		f.Fatal(err)
	}
	var cases map[string]vectorCase
	if err := json.Unmarshal(data, &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		schemas = append(schemas, c.Schema)
		instances = append(instances, c.Instance)
	}
	data, err = os.ReadFile(filepath.Join(dir, "testdata", "jtd", "invalid_schemas.json"))
	if err != nil {
		f.Fatal(err)
	}
	var invalid map[string]json.RawMessage
	if err := json.Unmarshal(data, &invalid); err != nil {
		f.Fatal(err)
	}
	for _, raw := range invalid {
		schemas = append(schemas, raw)
	}
	return schemas, instances
}

// FuzzParse checks that Parse never panics, that its errors are ErrInvalid,
// and that an accepted schema validates the same instance the same way twice.
func FuzzParse(f *testing.F) {
	schemas, _ := vectorSeeds(f)
	for _, s := range schemas {
		f.Add(s)
	}
	for _, s := range fuzzSchemas {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if !errors.Is(err, base.ErrInvalid) {
				t.Fatalf("Parse error %v is not base.ErrInvalid", err)
			}
			return
		}
		opts := Options{MaxDepth: 32}
		for _, inst := range fuzzInstances {
			a, errA := s.ValidateJSON([]byte(inst), opts)
			b, errB := s.ValidateJSON([]byte(inst), opts)
			if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
				t.Fatalf("schema %s, instance %s: not deterministic: %v/%v vs %v/%v", data, inst, a, errA, b, errB)
			}
			if errA != nil && !errors.Is(errA, ErrMaxDepth) {
				t.Fatalf("schema %s, instance %s: unexpected error %v", data, inst, errA)
			}
			for _, e := range a {
				if e.String() == "" {
					t.Fatal("empty error message")
				}
			}
		}
	})
}

// FuzzValidate checks that validating arbitrary bytes against fixed schemas
// never panics and fails only on malformed JSON or depth.
func FuzzValidate(f *testing.F) {
	_, instances := vectorSeeds(f)
	for _, inst := range instances {
		f.Add(inst)
	}
	for _, inst := range fuzzInstances {
		f.Add([]byte(inst))
	}
	parsed := make([]*Schema, 0, len(fuzzSchemas))
	for _, s := range fuzzSchemas {
		p, err := Parse([]byte(s))
		if err != nil {
			f.Fatalf("Parse(%s): %v", s, err)
		}
		parsed = append(parsed, p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		validJSON := json.Valid(data)
		for i, s := range parsed {
			errs, err := s.ValidateJSON(data, Options{MaxDepth: 64})
			switch {
			case err != nil && validJSON && !errors.Is(err, ErrMaxDepth):
				t.Fatalf("schema %s: ValidateJSON(%q): %v", fuzzSchemas[i], data, err)
			case err != nil && !errors.Is(err, base.ErrInvalid):
				t.Fatalf("schema %s: error %v is not base.ErrInvalid", fuzzSchemas[i], err)
			case err == nil && !validJSON:
				t.Fatalf("schema %s: accepted invalid JSON %q", fuzzSchemas[i], data)
			}
			// The first MaxErrors errors are a prefix of all of them.
			if len(errs) > 1 {
				few, _ := s.ValidateJSON(data, Options{MaxDepth: 64, MaxErrors: 1})
				if len(few) != 1 || !slices.Equal(few[0].InstancePath, errs[0].InstancePath) ||
					!slices.Equal(few[0].SchemaPath, errs[0].SchemaPath) {
					t.Fatalf("schema %s, instance %q: MaxErrors 1 gave %v, first of all is %v", fuzzSchemas[i], data, few, errs[0])
				}
			}
		}
	})
}
