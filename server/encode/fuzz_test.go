package encode

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func FuzzAppendJSONUTF8(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\r\t\b\f\x00\x1f", "héllo ✓", "\u2028\u2029", "a\xffb", "\xc3", "\xed\xa0\x80", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString([]byte("x"), s)[1:]
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for %q: %s", s, out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if want := replaceInvalid(s); back != want {
			t.Fatalf("round trip of %q: got %q, want %q", s, back, want)
		}
		// Same as encoding/json apart from its HTML escaping.
		ref, _ := json.Marshal(s)
		ref = bytes.ReplaceAll(ref, []byte(`\u003c`), []byte("<"))
		ref = bytes.ReplaceAll(ref, []byte(`\u003e`), []byte(">"))
		ref = bytes.ReplaceAll(ref, []byte(`\u0026`), []byte("&"))
		if !bytes.Equal(out, ref) {
			t.Fatalf("%q: got %s, encoding/json %s", s, out, ref)
		}
	})
}

func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "a", "a,b", `"q"`, " lead", "\\.", "x\r\ny", "\u00a0nbsp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ref bytes.Buffer
		w := csv.NewWriter(&ref)
		if err := w.Write([]string{s}); err != nil {
			t.Skip()
		}
		w.Flush()
		got := append(appendCSVField(nil, []byte(s)), '\n')
		if !bytes.Equal(got, ref.Bytes()) {
			t.Fatalf("%q: got %q, encoding/csv %q", s, got, ref.Bytes())
		}
	})
}

// replaceInvalid replaces each invalid UTF-8 byte of s by U+FFFD, as
// ranging over a string decodes it.
func replaceInvalid(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}
