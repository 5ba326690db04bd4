package server

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
)

const testFormData = "--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"tag\"\r\n\r\na\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"file\"; filename=\"r.txt\"\r\nContent-Type: text/plain\r\n\r\n12345\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"tag\"\r\n\r\nb\r\n" +
	"--XyZ--\r\n"

func TestFormJSON(t *testing.T) {
	f := func(media, ct, body, want string) {
		t.Helper()
		if err := validateForm(media, ct, []byte(body)); err != nil {
			t.Fatalf("%q: validateForm: %v", body, err)
		}
		got, err := formJSON(media, ct, []byte(body))
		if err != nil || string(got) != want {
			t.Fatalf("%q: got %s, %v; want %s", body, got, err, want)
		}
	}
	u := formURLEncoded
	f(u, u, "a=1&b=x+y&a=2&c", `{"a":["1","2"],"b":"x y","c":""}`)
	f(u, u, "Hello, world!", `{"Hello, world!":""}`)
	f(u, u, "na%C3%AFve=%E2%82%AC&&", `{"naïve":"€"}`)
	f(u, u, "", `{}`)
	f(u, u, "100%25=yes", `{"100%":"yes"}`)
	mp := formMultipart + "; boundary=XyZ"
	f(formMultipart, mp, testFormData,
		`{"title":"hello","tag":["a","b"],"file":{"filename":"r.txt","content_type":"text/plain","size":5}}`)
	f(formMultipart, mp, "--XyZ--\r\n", `{}`)
	// Other media types are not forms: nothing to check.
	if err := validateForm("text/plain", "text/plain", []byte("100%")); err != nil {
		t.Fatal(err)
	}
}

func TestFormRefused(t *testing.T) {
	f := func(media, ct, body, want string) {
		t.Helper()
		err := validateForm(media, ct, []byte(body))
		if !errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%q: validateForm: %v, want ErrInvalid mentioning %q", body, err, want)
		}
		if _, err := formJSON(media, ct, []byte(body)); !errors.Is(err, base.ErrInvalid) {
			t.Fatalf("%q: formJSON accepted it: %v", body, err)
		}
	}
	u := formURLEncoded
	f(u, u, "a=100%", `"%" at byte 5`)
	f(u, u, "a=%zz", `"%zz" at byte 2`)
	f(u, u, "a=%4", "two hex digits")
	f(formMultipart, formMultipart, testFormData, "boundary parameter")
	f(formMultipart, formMultipart+"; boundary=other", testFormData, "does not contain its boundary")
	f(formMultipart, formMultipart+"; boundary=XyZ", "", "does not contain its boundary")
	f(formMultipart, formMultipart+"; boundary=XyZ", testFormData[:60], "part 0")
	f(formMultipart, formMultipart+"; boundary=XyZ", strings.TrimSuffix(testFormData, "--XyZ--\r\n"), "part")
	f(formMultipart, formMultipart+`; boundary="unclosed`, testFormData, "Content-Type")
}

// FuzzParseForm: validateForm and formJSON never panic, agree on what they
// accept, refuse with 400, and formJSON's output is a JSON object.
func FuzzParseForm(f *testing.F) {
	mp := formMultipart + "; boundary=XyZ"
	f.Add(true, formURLEncoded, []byte("a=1&b=2&a=3"))
	f.Add(true, formURLEncoded, []byte("Hello, world!"))
	f.Add(true, formURLEncoded, []byte("a=%zz"))
	f.Add(false, mp, []byte(testFormData))
	f.Add(false, mp, []byte("--XyZ--"))
	f.Add(false, formMultipart, []byte(testFormData))
	f.Add(false, mp, []byte(testFormData[:70]))
	f.Fuzz(func(t *testing.T, urlencoded bool, ct string, body []byte) {
		media := formMultipart
		if urlencoded {
			media = formURLEncoded
		}
		verr := validateForm(media, ct, body)
		js, err := formJSON(media, ct, body)
		if (verr == nil) != (err == nil) {
			t.Fatalf("validateForm %v but formJSON %v", verr, err)
		}
		if err != nil {
			if !errors.Is(err, base.ErrInvalid) || !errors.Is(verr, base.ErrInvalid) {
				t.Fatalf("error of the wrong kind: %v / %v", verr, err)
			}
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(js, &obj); err != nil {
			t.Fatalf("formJSON %q is not a JSON object: %v", js, err)
		}
	})
}
