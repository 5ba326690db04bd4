package jtd

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/ducktail/ducktail/internal/sharedtest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ducktail/ducktail/base"
)

type vectorCase struct {
	Schema   json.RawMessage `json:"schema"`
	Instance json.RawMessage `json:"instance"`
	Errors   []struct {
		InstancePath []string `json:"instancePath"`
		SchemaPath   []string `json:"schemaPath"`
	} `json:"errors"`
}

func loadValidationVectors(t testing.TB) map[string]vectorCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedtest.Dir(t), "testdata", "jtd", "validation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]vectorCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func loadInvalidSchemas(t testing.TB) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedtest.Dir(t), "testdata", "jtd", "invalid_schemas.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]json.RawMessage
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// errorSet renders indicators as sorted "instancePointer schemaPointer"
// strings, so that lists compare as (multi)sets, as the official suite does.
func errorSet(pairs [][2][]string) []string {
	out := make([]string, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, Pointer(p[0])+" "+Pointer(p[1]))
	}
	slices.Sort(out)
	return out
}

func gotSet(errs []ValidationError) []string {
	pairs := make([][2][]string, 0, len(errs))
	for _, e := range errs {
		pairs = append(pairs, [2][]string{e.InstancePath, e.SchemaPath})
	}
	return errorSet(pairs)
}

func TestOfficialValidationVectors(t *testing.T) {
	cases := loadValidationVectors(t)
	if len(cases) != 316 {
		t.Errorf("validation.json has %d cases, want 316", len(cases))
	}
	passed := 0
	for name, c := range cases {
		pairs := make([][2][]string, 0, len(c.Errors))
		for _, e := range c.Errors {
			pairs = append(pairs, [2][]string{e.InstancePath, e.SchemaPath})
		}
		want := errorSet(pairs)

		s, err := Parse(c.Schema)
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		ok := true
		// Three ways in: raw bytes, json.Number values, float64 values.
		got, err := s.ValidateJSON(c.Instance, Options{})
		if err != nil || !slices.Equal(gotSet(got), want) {
			t.Errorf("%s: ValidateJSON = %q, %v; want %q", name, gotSet(got), err, want)
			ok = false
		}
		dec := json.NewDecoder(bytes.NewReader(c.Instance))
		dec.UseNumber()
		var exact any
		if err := dec.Decode(&exact); err != nil {
			t.Fatal(err)
		}
		got, err = s.Validate(exact, Options{})
		if err != nil || !slices.Equal(gotSet(got), want) {
			t.Errorf("%s: Validate(json.Number) = %q, %v; want %q", name, gotSet(got), err, want)
			ok = false
		}
		var float any
		if err := json.Unmarshal(c.Instance, &float); err != nil {
			t.Fatal(err)
		}
		got, err = s.Validate(float, Options{})
		if err != nil || !slices.Equal(gotSet(got), want) {
			t.Errorf("%s: Validate(float64) = %q, %v; want %q", name, gotSet(got), err, want)
			ok = false
		}
		if ok {
			passed++
		}
	}
	t.Logf("validation.json: %d/%d cases pass", passed, len(cases))
}

func TestOfficialInvalidSchemas(t *testing.T) {
	cases := loadInvalidSchemas(t)
	if len(cases) != 49 {
		t.Errorf("invalid_schemas.json has %d cases, want 49", len(cases))
	}
	refused := 0
	for name, raw := range cases {
		s, err := Parse(raw)
		switch {
		case err == nil:
			t.Errorf("%s: Parse(%s) accepted the schema (form %s)", name, raw, s.Form())
		case !errors.Is(err, base.ErrInvalid):
			t.Errorf("%s: Parse error %v does not wrap base.ErrInvalid", name, err)
		default:
			refused++
		}
	}
	t.Logf("invalid_schemas.json: %d/%d refused", refused, len(cases))
}
