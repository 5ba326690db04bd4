package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.yaml.in/yaml/v3"

	"github.com/ducktail/ducktail/base"
)

func TestFromFieldsErrors(t *testing.T) {
	f := func(fields []Field, want string) {
		t.Helper()
		_, err := FromFields(fields)
		if err == nil {
			t.Fatalf("FromFields(%v) succeeded, want %q", fields, want)
		}
		if !errors.Is(err, base.ErrInvalid) {
			t.Fatalf("FromFields(%v): %v is not ErrInvalid", fields, err)
		}
		if err.Error() != want {
			t.Fatalf("FromFields(%v) error\n got: %s\nwant: %s", fields, err, want)
		}
	}
	ok := Field{Name: "a", Type: "int64", Nullable: true}
	f([]Field{ok, {Name: "a", Type: "utf8"}}, `field "a": declared more than once`)
	f([]Field{ok, {Name: "_x", Type: "utf8"}}, `field "_x": names starting with '_' are reserved for system columns`)
	f([]Field{ok, {Name: "", Type: "utf8"}}, `fields[1]: field name is empty`)
	f([]Field{ok, {Name: "b", Type: "intx"}}, `field "b": type "intx": unknown type name "intx" (at offset 0)`)
	f([]Field{{Name: "c", Type: ""}}, `field "c": type "": want a type name, found end of input (at offset 0)`)
}

func TestFromFieldsToFields(t *testing.T) {
	in := []Field{
		{Name: "timestamp", Type: "int64", Nullable: false},
		{Name: "event", Type: "string", Nullable: true},
		{Name: "tags", Type: "list<utf8 not null>", Nullable: true},
	}
	s, err := FromFields(in)
	if err != nil {
		t.Fatal(err)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64},
		{Name: "event", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tags", Type: arrow.ListOfNonNullable(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	if !s.Equal(want) {
		t.Fatalf("FromFields = %s, want %s", s, want)
	}
	out := ToFields(s)
	in[1].Type = "utf8" // canonical name
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("ToFields = %v, want %v", out, in)
	}
}

func TestTopicFromFieldsRefusesUnstorable(t *testing.T) {
	_, err := TopicFromFields([]Field{{Name: "d", Type: "duration[s]", Nullable: true}})
	want := `field "d": Arrow type duration[s] cannot be stored in Parquet`
	if err == nil || !errors.Is(err, base.ErrInvalid) || err.Error() != want {
		t.Fatalf("TopicFromFields: %v, want %q", err, want)
	}
}

func TestFieldDecoding(t *testing.T) {
	type doc struct {
		Fields []Field `json:"fields" yaml:"fields"`
	}
	want := []Field{
		{Name: "a", Type: "int64", Nullable: true},
		{Name: "b", Type: "utf8", Nullable: false},
		{Name: "c", Type: "bool", Nullable: true},
	}
	var j doc
	if err := json.Unmarshal([]byte(`{"fields": [{"name": "a", "type": "int64"},
		{"name": "b", "type": "utf8", "nullable": false}, {"name": "c", "type": "bool", "nullable": true}]}`), &j); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j.Fields, want) {
		t.Fatalf("JSON: %v, want %v", j.Fields, want)
	}
	var y doc
	if err := yaml.Unmarshal([]byte("fields:\n  - {name: a, type: int64}\n  - name: b\n    type: utf8\n    nullable: false\n  - {name: c, type: bool, nullable: true}\n"), &y); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(y.Fields, want) {
		t.Fatalf("YAML: %v, want %v", y.Fields, want)
	}
	// Encoding always writes nullable, so it decodes back the same.
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var back []Field
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Fatalf("JSON round trip: %v %v", back, err)
	}
}

func TestFieldDecodingErrors(t *testing.T) {
	f := func(err error, want string) {
		t.Helper()
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	}
	var fs []Field
	err := json.Unmarshal([]byte(`[{"name": "a", "type": "int64", "nulable": true}]`), &fs)
	f(err, `schema field: json: unknown field "nulable"`)
	if !errors.Is(err, base.ErrInvalid) {
		t.Fatalf("%v is not ErrInvalid", err)
	}
	f(yaml.Unmarshal([]byte("- name: a\n  type: int64\n  nulable: true\n"), &fs),
		`line 3: schema field: unknown key "nulable" (want name, type, nullable)`)
	f(yaml.Unmarshal([]byte("- int64\n"), &fs), `line 1: schema field: want a mapping with name, type, nullable`)
	err = yaml.Unmarshal([]byte("- name: a\n  nullable: maybe\n"), &fs)
	if err == nil || !errors.Is(err, base.ErrInvalid) {
		t.Fatalf("nullable: maybe: %v", err)
	}
}

func TestStored(t *testing.T) {
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	payload := arrow.NewSchema([]arrow.Field{{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, &md)
	s := Stored(payload)
	want := []Field{
		{Name: "_id", Type: "int64"},
		{Name: "_ts", Type: "timestamp[ms, tz=UTC]"},
		{Name: "_event", Type: "utf8"},
		{Name: "_sub", Type: "utf8", Nullable: true},
		{Name: "_tenant", Type: "uint32", Nullable: true},
		{Name: "value", Type: "float64", Nullable: true},
	}
	if got := ToFields(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("Stored = %v, want %v", got, want)
	}
	if v, _ := s.Metadata().GetValue("k"); v != "v" {
		t.Fatalf("metadata lost: %v", s.Metadata())
	}
	if n := Stored(nil).NumFields(); n != NumSystemColumns {
		t.Fatalf("Stored(nil) has %d fields", n)
	}
	if err := CheckStorable(s); err != nil {
		t.Fatalf("stored schema is not storable: %v", err)
	}
}
