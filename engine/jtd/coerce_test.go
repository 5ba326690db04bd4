package jtd

import (
	"encoding/json"
	"testing"
)

func TestCoerce(t *testing.T) {
	s, err := Parse([]byte(`{
		"definitions": {"n": {"type": "int16"}},
		"properties": {"ok": {"type": "boolean"}, "n": {"ref": "n"}, "f": {"type": "float64"},
			"tags": {"elements": {"type": "uint8"}}, "obj": {"values": {"type": "string"}},
			"maybe": {"type": "string", "nullable": true}, "s": {"type": "string"}},
		"optionalProperties": {"opt": {"type": "int32"}, "any": {}},
		"additionalProperties": true}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   map[string]any
		want string // the JSON of the result
		errs int    // validation errors of the result
	}{
		{"all converted",
			map[string]any{"ok": "TRUE", "n": "-12", "f": "1.5e3", "tags": []any{"1", "2"}, "obj": `{"a":"b"}`,
				"maybe": "", "s": "42", "opt": "", "any": "[1,2]", "extra": "x"},
			`{"any":[1,2],"extra":"x","f":1.5e3,"maybe":null,"n":-12,"obj":{"a":"b"},"ok":true,"s":"42","tags":[1,2]}`, 0},
		{"bad values stay text and fail validation",
			map[string]any{"ok": "yes", "n": "1e400", "f": "NaN", "tags": "1,2", "obj": "{", "maybe": "null", "s": ""},
			`{"f":"NaN","maybe":null,"n":"1e400","obj":"{","ok":"yes","s":"","tags":["1,2"]}`, 5},
		{"a field given once is a list of one",
			map[string]any{"ok": "true", "n": "1", "f": "1", "tags": " 7", "obj": "{}", "maybe": "x", "s": ""},
			`{"f":1,"maybe":"x","n":1,"obj":{},"ok":true,"s":"","tags":[7]}`, 0},
		{"an empty field is an empty list",
			map[string]any{"ok": "true", "n": "1", "f": "1", "tags": "", "obj": "{}", "maybe": "x", "s": ""},
			`{"f":1,"maybe":"x","n":1,"obj":{},"ok":true,"s":"","tags":[]}`, 0},
		{"out of range is a number, refused by validation",
			map[string]any{"ok": "false", "n": "40000", "f": "0", "tags": []any{"256"}, "obj": "{}", "maybe": "x", "s": ""},
			`{"f":0,"maybe":"x","n":40000,"obj":{},"ok":false,"s":"","tags":[256]}`, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := Coerce(s, c.in)
			b, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != c.want {
				t.Fatalf("got  %s\nwant %s", b, c.want)
			}
			errs, err := s.ValidateJSON(b, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(errs) != c.errs {
				t.Fatalf("%d validation errors, want %d: %v", len(errs), c.errs, errs)
			}
		})
	}
}
