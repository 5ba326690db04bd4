package jtdarrow

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/jtd"
)

func mustColumns(t *testing.T, def string) []Prop {
	t.Helper()
	s, err := jtd.Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	props, err := Columns(s)
	if err != nil {
		t.Fatal(err)
	}
	return props
}

// TestMapping: each form's Arrow type (docs/types.md).
func TestMapping(t *testing.T) {
	f := func(sub, want string) {
		t.Helper()
		props := mustColumns(t, `{"definitions": {"d": {"type": "uint16"}}, "properties": {"x": `+sub+`}}`)
		if got := props[0].Mapping.Type().String(); got != want {
			t.Errorf("%s: %s, want %s", sub, got, want)
		}
	}
	f(`{"type": "boolean"}`, "bool")
	f(`{"type": "string"}`, "utf8")
	f(`{"type": "timestamp"}`, "timestamp[ms, tz=UTC]")
	f(`{"type": "float32"}`, "float32")
	f(`{"type": "int8"}`, "int8")
	f(`{"type": "uint32", "nullable": true}`, "uint32")
	f(`{"enum": ["a"]}`, "dictionary<values=utf8, indices=int32, ordered=false>")
	f(`{"elements": {"enum": ["a"]}}`, "list<item: utf8, nullable>")
	f(`{"values": {"type": "int16"}}`, "map<utf8, int16, items_nullable>")
	f(`{"properties": {"b": {"type": "string"}}, "optionalProperties": {"a": {"type": "int32"}}}`, "struct<b: utf8 nullable, a: int32 nullable>")
	f(`{"ref": "d"}`, "uint16")
	f(`{}`, "utf8")
	f(`{"discriminator": "k", "mapping": {"x": {"properties": {}}}}`, "utf8")
}

// TestParseTimestamp: RFC 3339 as JTD accepts it, to milliseconds.
func TestParseTimestamp(t *testing.T) {
	f := func(s string, want int64, ok bool) {
		t.Helper()
		got, gotOK := ParseTimestamp(s)
		if gotOK != ok || (ok && got != want) {
			t.Errorf("%s: %d %v, want %d %v", s, got, gotOK, want, ok)
		}
	}
	f("1970-01-01T00:00:00Z", 0, true)
	f("1970-01-01t00:00:01.9999z", 1999, true)
	f("1970-01-01T01:00:00+01:00", 0, true)
	f("1969-12-31T23:59:59.9995Z", -1, true) // truncated toward the past
	f("1990-12-31T23:59:60Z", 662688000000, true)
	f("not a time", 0, false)
	// The range is years 0000 to 9999 once the offset and a leap second
	// are applied: what lies outside would read back as no RFC 3339.
	f("9999-12-31T23:59:59.999999Z", MaxTimestamp, true)
	f("9999-12-31T23:59:60Z", 0, false) // the next second: year 10000
	f("9999-12-31T23:59:60.5+01:00", MaxTimestamp-3599499, true)
	f("9999-12-31T23:00:00-01:00", 0, false)
	f("0000-01-01T00:00:00Z", MinTimestamp, true)
	f("0000-01-01T00:00:00+01:00", 0, false) // year -1
	f("0000-01-01T00:59:59.999+01:00", 0, false)
	f("0000-01-01T01:00:00+01:00", MinTimestamp, true)
}

// TestRoundTrip: a JSON object built into columns renders back to itself,
// minus what the definition does not store.
func TestRoundTrip(t *testing.T) {
	props := mustColumns(t, `{"properties": {"s": {"type": "string"}, "n": {"type": "int32", "nullable": true},
		"e": {"enum": ["x", "y"]}, "l": {"elements": {"type": "float64"}}, "m": {"values": {"type": "boolean"}},
		"o": {"properties": {"a": {"type": "timestamp"}}, "optionalProperties": {"b": {"type": "uint8"}}}, "j": {}},
		"optionalProperties": {"opt": {"type": "string"}}, "additionalProperties": true}`)
	in := `{"s":"tab\t\"q\" é","n":null,"e":"y","l":[1.5,-2,1e300],"m":{"b":true,"a":false},"o":{"a":"2020-01-02T03:04:05.678901Z"},"j":{"z":[1,"<&>"]},"extra":1}`
	want := `{"e":"y","j":{"z":[1,"<&>"]},"l":[1.5,-2,1e+300],"m":{"a":false,"b":true},"n":null,"o":{"a":"2020-01-02T03:04:05.678Z"},"s":"tab\t\"q\" é"}`
	v, err := jtd.DecodeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	cols := BuildColumns(memory.DefaultAllocator, props, v.(map[string]any))
	fields := make([]arrow.Field, len(props))
	for i, p := range props {
		fields[i] = p.Field()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, 1)
	defer rec.Release()
	for _, c := range cols {
		c.Release()
	}
	if got := string(ObjectAppender(props, rec)(nil, 0)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestCheck(t *testing.T) {
	cols := mustColumns(t, `{"definitions": {"ts": {"type": "timestamp"}}, "properties": {
		"f32": {"type": "float32"}, "f64": {"type": "float64"},
		"list": {"elements": {"type": "float32"}},
		"m": {"values": {"type": "float32"}},
		"s": {"properties": {"a/b": {"type": "float32"}}}},
		"optionalProperties": {"t": {"type": "timestamp"}, "tl": {"elements": {"ref": "ts"}}}}`)
	for _, tc := range []struct{ doc, msg string }{
		{`{"f32": 3.4e38, "f64": 1e308, "list": [1, -3.4e38], "m": {"k": 0}, "s": {"a/b": 1e-50},
			"t": "9999-12-31T23:59:59.999Z", "tl": ["0000-01-01T00:00:00Z", "9999-12-31T23:59:60+00:01"]}`, ""},
		{`{"f32": 1e300}`, `"/f32": 1e300 is beyond the range of float32 (schema /properties/f32/type)`},
		{`{"f32": -3.5e38}`, `"/f32": -3.5e38 is beyond the range of float32 (schema /properties/f32/type)`},
		{`{"f64": 1e400}`, `"/f64": 1e400 is beyond the range of float64 (schema /properties/f64/type)`},
		{`{"f64": -1e309}`, `"/f64": -1e309 is beyond the range of float64 (schema /properties/f64/type)`},
		// The element, not the whole array.
		{`{"list": [1, 2, 1e39]}`, `"/list/2": 1e39 is beyond the range of float32 (schema /properties/list/elements/type)`},
		{`{"m": {"x": 1e39, "a": 0}}`, `"/m/x": 1e39 is beyond the range of float32 (schema /properties/m/values/type)`},
		{`{"s": {"a/b": 1e39}}`, `"/s/a~1b": 1e39 is beyond the range of float32 (schema /properties/s/properties/a~1b/type)`},
		{`{"t": "9999-12-31T23:59:60Z"}`, `"/t": "9999-12-31T23:59:60Z" is outside the range of timestamps, 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z (schema /optionalProperties/t/type)`},
		{`{"t": "0000-01-01T00:00:00+01:00"}`, `"/t": "0000-01-01T00:00:00+01:00" is outside the range`},
		{`{"tl": ["2020-01-01T00:00:00Z", "9999-12-31t23:59:59-00:01"]}`, `"/tl/1": "9999-12-31t23:59:59-00:01" is outside the range of timestamps, 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z (schema /definitions/ts/type)`},
	} {
		v, err := jtd.DecodeJSON([]byte(tc.doc))
		if err != nil {
			t.Fatal(err)
		}
		err = Check(cols, v.(map[string]any))
		switch {
		case tc.msg == "" && err != nil:
			t.Errorf("%s: %v, want no error", tc.doc, err)
		case tc.msg != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.msg) || !errors.Is(err, base.ErrInvalid)):
			t.Errorf("%s: %v, want an invalid-input error %s", tc.doc, err, tc.msg)
		}
	}
}

// TestTimestampRange: the range's ends are the RFC 3339 date-times they say.
func TestTimestampRange(t *testing.T) {
	if got := time.UnixMilli(MinTimestamp).UTC().Format(time.RFC3339Nano); got != "0000-01-01T00:00:00Z" {
		t.Errorf("MinTimestamp is %s", got)
	}
	if got := time.UnixMilli(MaxTimestamp).UTC().Format(time.RFC3339Nano); got != "9999-12-31T23:59:59.999Z" {
		t.Errorf("MaxTimestamp is %s", got)
	}
}
