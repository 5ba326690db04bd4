package server

import (
	"mime"
	"strings"
	"testing"
)

// TestMediaType: the fast path for a Content-Type without parameters
// answers what mime.ParseMediaType (or the fallback for an invalid one)
// answers.
func TestMediaType(t *testing.T) {
	slow := func(ct string) string {
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			return mt
		}
		mt, _, _ := strings.Cut(ct, ";")
		return strings.ToLower(strings.TrimSpace(mt))
	}
	for _, ct := range []string{
		"application/json", " Application/JSON ", "text/plain", "text/plain;charset=UTF-8",
		"multipart/mixed; boundary=x", "application/", "a/b c", "", "TEXT/CSV", "bad",
	} {
		if got, want := mediaType(ct), slow(ct); got != want {
			t.Errorf("mediaType(%q) = %q, want %q", ct, got, want)
		}
		if got := contentTypeString([]byte(ct)); got != ct {
			t.Errorf("contentTypeString(%q) = %q", ct, got)
		}
	}
}
