package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"

	"github.com/ducktail/ducktail/base"

	"github.com/ducktail/ducktail/internal/jsonx"
)

// Form bodies (SPEC 4.2): application/x-www-form-urlencoded and
// multipart/form-data POSTs are one event each, stored as received. A
// form-data body, and a urlencoded one of a typed event, is checked first
// so that a body no form reader could read is refused rather than stored
// (an untyped urlencoded body is not: see parseEvents); formJSON gives the
// fields as a JSON object for typed events.
const (
	formURLEncoded = "application/x-www-form-urlencoded"
	formMultipart  = "multipart/form-data"
	// maxFormParts bounds the parts of a form-data body walked by checks.
	maxFormParts = 1000
)

// validateForm checks a form body of media type media; other media types
// pass. A urlencoded body is refused only when it is definitely broken: a
// '%' not followed by two hex digits. Anything else, such as curl -d's
// "Hello, world!" (one field named "Hello, world!" with an empty value), is
// a valid form. A form-data body needs a boundary parameter and must parse
// as multipart up to its closing delimiter. Errors wrap base.ErrInvalid.
func validateForm(media, contentType string, body []byte) error {
	switch media {
	case formURLEncoded:
		return checkPercent(body)
	case formMultipart:
		return walkFormData(contentType, body, nil)
	}
	return nil
}

// checkPercent refuses a '%' not followed by two hex digits, naming its
// byte offset.
func checkPercent(body []byte) error {
	for i := 0; i < len(body); i++ {
		if body[i] != '%' {
			continue
		}
		if i+2 >= len(body) || !isHex(body[i+1]) || !isHex(body[i+2]) {
			end := min(i+3, len(body))
			return base.Errorf(base.ErrInvalid, "form body: bad percent escape %q at byte %d (a %% must be followed by two hex digits)", body[i:end], i)
		}
		i += 2
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// formFile is how formJSON shows a file part: its name, type and size, not
// its contents.
type formFile struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

// formField is one field of a form, in body order.
type formField struct {
	name  string
	value any // string or formFile
}

// walkFormData parses a multipart/form-data body, calling visit (if not nil)
// for each part that has a form-data name.
func walkFormData(contentType string, body []byte, visit func(formField)) error {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return base.Errorf(base.ErrInvalid, "Content-Type %q: %v", contentType, err)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return base.Errorf(base.ErrInvalid, "Content-Type %q: multipart/form-data needs a boundary parameter", contentType)
	}
	if !bytes.Contains(body, []byte("--"+boundary)) {
		return base.Errorf(base.ErrInvalid, "form-data body does not contain its boundary %q", boundary)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for n := 0; ; n++ {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return base.Errorf(base.ErrInvalid, "form-data part %d: %v", n, err)
		}
		if n == maxFormParts {
			return base.Errorf(base.ErrInvalid, "form-data body has more than %d parts", maxFormParts)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return base.Errorf(base.ErrInvalid, "form-data part %d: %v", n, err)
		}
		if visit == nil {
			continue
		}
		_, dp, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name := dp["name"]
		if err != nil || name == "" {
			// Not a form field (RFC 7578 requires a name); JSON has no
			// place for it.
			continue
		}
		if fn, isFile := dp["filename"]; isFile {
			ct := part.Header.Get("Content-Type")
			if ct == "" {
				ct = "text/plain"
			}
			visit(formField{name, formFile{Filename: fn, ContentType: ct, Size: len(data)}})
			continue
		}
		visit(formField{name, string(data)})
	}
}

// formJSON returns a form body (urlencoded or form-data, by media) as a
// JSON object: {"field": "value"}, a field given several times an array of
// its values in order, a file part {"filename", "content_type", "size"}.
// Fields keep their first appearance's order. A urlencoded key or value
// that is not valid UTF-8 has its bad bytes replaced by U+FFFD.
func formJSON(media, contentType string, body []byte) ([]byte, error) {
	fields, err := formFields(media, contentType, body)
	if err != nil {
		return nil, err
	}
	return marshalFields(fields)
}

// formObject returns a form body's fields as formJSON's object before it
// is written: a field given several times is a []any of its values.
func formObject(media, contentType string, body []byte) (map[string]any, error) {
	fields, err := formFields(media, contentType, body)
	if err != nil {
		return nil, err
	}
	obj := make(map[string]any, len(fields))
	for _, f := range fields {
		switch prev := obj[f.name].(type) {
		case nil:
			obj[f.name] = f.value
		case []any:
			obj[f.name] = append(prev, f.value)
		default:
			obj[f.name] = []any{prev, f.value}
		}
	}
	return obj, nil
}

// formFields parses a form body (urlencoded or form-data, by media) into
// its fields, in order.
func formFields(media, contentType string, body []byte) ([]formField, error) {
	var fields []formField
	switch media {
	case formURLEncoded:
		if err := checkPercent(body); err != nil {
			return nil, err
		}
		for pair := range strings.SplitSeq(string(body), "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			// checkPercent has made every escape valid.
			k, _ = url.QueryUnescape(k)
			v, _ = url.QueryUnescape(v)
			fields = append(fields, formField{k, v})
		}
	case formMultipart:
		if err := walkFormData(contentType, body, func(f formField) { fields = append(fields, f) }); err != nil {
			return nil, err
		}
	default:
		return nil, base.Errorf(base.ErrUnsupported, "%s is not a form media type", media)
	}
	return fields, nil
}

// marshalFields writes fields as a JSON object, merging repeated names into
// arrays.
func marshalFields(fields []formField) ([]byte, error) {
	var order []string
	values := map[string][]any{}
	for _, f := range fields {
		if _, ok := values[f.name]; !ok {
			order = append(order, f.name)
		}
		values[f.name] = append(values[f.name], f.value)
	}
	b := []byte{'{'}
	for i, name := range order {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, name)
		b = append(b, ':')
		var v any = values[name]
		if vs := values[name]; len(vs) == 1 {
			v = vs[0]
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, base.Errorf(base.ErrInvalid, "form field %q: %v", name, err)
		}
		b = append(b, enc...)
	}
	return append(b, '}'), nil
}
