package jtd

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const benchSchema = `{
	"properties": {
		"id": {"type": "uint32"},
		"ts": {"type": "timestamp"},
		"user": {"type": "string"},
		"event": {"enum": ["click", "view", "buy"]},
		"score": {"type": "float64"},
		"count": {"type": "int16"},
		"ok": {"type": "boolean"},
		"url": {"type": "string"},
		"tags": {"elements": {"type": "string"}},
		"attrs": {"values": {"type": "string"}}
	}
}`

// benchInstance is a valid ~1 KiB object for benchSchema.
func benchInstance() []byte {
	var tags, attrs []string
	for i := range 12 {
		tags = append(tags, fmt.Sprintf(`"tag-%02d"`, i))
		attrs = append(attrs, fmt.Sprintf(`"key%02d":"value-%02d"`, i, i))
	}
	return fmt.Appendf(nil, `{"id":4000000000,"ts":"2024-05-01T12:34:56.789Z","user":"user-%s","event":"click",`+
		`"score":12.5,"count":-300,"ok":true,"url":"https://example.com/%s","tags":[%s],"attrs":{%s}}`,
		strings.Repeat("u", 150), strings.Repeat("p", 374), strings.Join(tags, ","), strings.Join(attrs, ","))
}

func BenchmarkValidateJSON(b *testing.B) {
	s := mustParse(b, benchSchema)
	inst := benchInstance()
	b.SetBytes(int64(len(inst)))
	b.ReportAllocs()
	for b.Loop() {
		errs, err := s.ValidateJSON(inst, Options{})
		if err != nil || len(errs) != 0 {
			b.Fatal(errs, err)
		}
	}
}

// BenchmarkValidate measures validation alone, on an already decoded value.
func BenchmarkValidate(b *testing.B) {
	s := mustParse(b, benchSchema)
	inst := benchInstance()
	var v any
	d := json.NewDecoder(strings.NewReader(string(inst)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(inst)))
	b.ReportAllocs()
	for b.Loop() {
		errs, err := s.Validate(v, Options{})
		if err != nil || len(errs) != 0 {
			b.Fatal(errs, err)
		}
	}
}

func TestBenchInstanceIs1KiB(t *testing.T) {
	if n := len(benchInstance()); n != 1024 {
		t.Errorf("bench instance is %d bytes, want 1024", n)
	}
}
