package server

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// TestCSVAndFormEventsHTTP: text/csv POSTs become one event per row, all or
// nothing; form POSTs stay one raw event and are refused only when broken.
func TestCSVAndFormEventsHTTP(t *testing.T) {
	ts := startServer(t)
	post := func(path, ct, body string, hdr ...string) response {
		t.Helper()
		return ts.admin("POST", path, []byte(body), append([]string{"Content-Type", ct}, hdr...)...)
	}
	want := func(r response, body string) {
		t.Helper()
		if r.code != 200 || strings.TrimSpace(string(r.body)) != body || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("got %d %q, want 200 %s", r.code, r.body, body)
		}
	}
	event := func(id string) map[string]any {
		t.Helper()
		var ev map[string]any
		r := ts.admin("GET", "/acme/log["+id+"]", nil)
		if r.code != 200 {
			t.Fatalf("GET [%s]: %d %s", id, r.code, r.body)
		}
		r.json(t, &ev)
		return ev
	}

	// The seed's curl -d 'Hello, world!': a form content type, a body
	// that is a valid form of one empty field; stored as received.
	want(post("/acme/log", "application/x-www-form-urlencoded", "Hello, world!"), "0")
	if ev := event("0"); ev["data"] != "Hello, world!" || ev["event"] != "application/x-www-form-urlencoded" {
		t.Fatalf("curl -d event: %v", ev)
	}

	// CSV with quotes, an embedded CRLF newline and CRLF line ends.
	body := "name,note,n\r\nann,\"say \"\"hi\"\"\",1\r\n\"bob\",\"two\r\nlines\",2\r\ncid,,3\r\n"
	want(post("/acme/log", "text/csv; charset=utf-8", body), "[1,2,3]")
	for id, data := range map[string]string{
		"1": "name,note,n\nann,\"say \"\"hi\"\"\",1\n",
		"2": "name,note,n\nbob,\"two\nlines\",2\n",
		"3": "name,note,n\ncid,,3\n",
	} {
		ev := event(id)
		if ev["data"] != data || ev["event"] != "text/csv" {
			t.Errorf("row event %s: %v, want data %q", id, ev, data)
		}
	}
	// The CSV read of a row event has the one-row document as its data.
	rows, err := csv.NewReader(bytes.NewReader(ts.admin("GET", "/acme/log[2]", nil, "Accept", "text/csv").body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][3] != "name,note,n\nbob,\"two\nlines\",2\n" {
		t.Fatalf("CSV read: %q %v", rows, err)
	}
	// :type, a forced timestamp and [n] apply as for a bulk push.
	want(post("/acme/log:row[4]", "text/csv", "a\nx\ny\n", "Timestamp", "4102444800000"), "[4,5]")
	for _, id := range []string{"4", "5"} {
		if ev := event(id); ev["event"] != "row" || ev["timestamp"] != 4102444800000.0 {
			t.Fatalf("typed row %s: %v", id, ev)
		}
	}
	if r := post("/acme/log[4]", "text/csv", "a\nx\n"); r.code != 409 {
		t.Fatalf("[4] again: %d %s", r.code, r.body)
	}

	// Refused, and nothing stored: the next id is still 6.
	for _, c := range []struct {
		name, ct, body string
		code           int
		msg            string
	}{
		{"ragged row", "text/csv", "a,b\n1,2\n3\n", 400, "line 3"},
		{"bad quoting", "text/csv", "a,b\n1,\"2\n", 400, "line 2"},
		{"bare quote", "text/csv", "a,b\n1,x\"y\n", 400, "line 2"},
		{"empty header name", "text/csv", "a,\n1,2\n", 400, "empty name"},
		{"duplicate header", "text/csv", "a,a\n1,2\n", 400, "twice"},
		{"header only", "text/csv", "a,b\r\n", 400, "no rows"},
		{"empty body", "text/csv", "", 400, "empty"},
		{"invalid UTF-8", "text/csv", "a\n\xfe\n", 400, "UTF-8"},
		{"row over 100 KiB", "text/csv", "a\n" + strings.Repeat("x", 100<<10) + "\n", 413, "line 2"},
		{"too many rows", "text/csv", "a\n" + strings.Repeat("1\n", 10_001), 413, "10000"},
		{"form-data without boundary", "multipart/form-data", testFormData, 400, "boundary"},
		{"form-data with the wrong boundary", "multipart/form-data; boundary=nope", testFormData, 400, "boundary"},
		{"truncated form-data", "multipart/form-data; boundary=XyZ", testFormData[:80], 400, "part"},
	} {
		r := post("/acme/log", c.ct, c.body)
		if r.code != c.code || !strings.Contains(r.errorText(t), c.msg) {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.name, r.code, r.body, c.code, c.msg)
		}
	}

	// Forms are one event each, stored as received.
	want(post("/acme/log", "application/x-www-form-urlencoded", "a=1&b=%C3%A9"), "6")
	want(post("/acme/log", "multipart/form-data; boundary=XyZ", testFormData), "7")
	if ev := event("6"); ev["data"] != "a=1&b=%C3%A9" {
		t.Fatalf("urlencoded event: %v", ev)
	}
	if ev := event("7"); ev["data"] != testFormData || ev["event"] != "multipart/form-data" {
		t.Fatalf("form-data event: %v", ev)
	}
	// An untyped urlencoded body is not read as a form: what curl -d sends
	// is kept, broken escapes and all.
	want(post("/acme/log", "application/x-www-form-urlencoded", "Sale: 50% off!"), "8")
	if ev := event("8"); ev["data"] != "Sale: 50% off!" {
		t.Fatalf("urlencoded event with a bare %%: %v", ev)
	}
}
