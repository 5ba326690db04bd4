package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"

	"github.com/ducktail/ducktail/internal/jsonx"
)

func TestCSVEvents(t *testing.T) {
	f := func(body string, wantData ...string) {
		t.Helper()
		evs, err := csvEvents([]byte(body), engine.Event{Index: -1}, nil)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		var got []string
		for _, ev := range evs {
			if ev.ContentType != "text/csv" || ev.Type != "text/csv" || ev.Index != -1 {
				t.Fatalf("%q: event %+v", body, ev)
			}
			got = append(got, string(ev.Data))
		}
		if !reflect.DeepEqual(got, wantData) {
			t.Fatalf("%q:\n got %q\nwant %q", body, got, wantData)
		}
	}
	f("a,b\n1,2\n3,4\n", "a,b\n1,2\n", "a,b\n3,4\n")
	f("a,b\r\n1,2\r\n3,4", "a,b\n1,2\n", "a,b\n3,4\n")
	// Quotes are re-encoded canonically: only where needed.
	f("\"a\",\"b\"\n\"x\",\"say \"\"hi\"\"\"\n", "a,b\nx,\"say \"\"hi\"\"\"\n")
	// An embedded newline stays inside its quoted field; its line end is
	// LF whatever the body used.
	f("name,note\r\nann,\"two\r\nlines\"\r\nbob,x\r\n", "name,note\nann,\"two\nlines\"\n", "name,note\nbob,x\n")
	// One empty field is written "" (an empty line is no record).
	f("a\n\"\"\n", "a\n\"\"\n")
	// A UTF-8 byte order mark is not part of the first name.
	f("\xef\xbb\xbfa,b\n1,2\n", "a,b\n1,2\n")
	f("città,€\nü,ß\n", "città,€\nü,ß\n")
}

func TestCSVEventsRefused(t *testing.T) {
	f := func(body string, kind error, want string) {
		t.Helper()
		_, err := csvEvents([]byte(body), engine.Event{Index: -1}, nil)
		if !errors.Is(err, kind) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%q: error %v, want %v mentioning %q", body, err, kind, want)
		}
	}
	f("", base.ErrInvalid, "empty")
	f("a,b\n", base.ErrInvalid, "no rows")
	f("a,b\n1,2\n3\n", base.ErrInvalid, "line 3")
	f("a,b\n1,2\n3,4,5\n", base.ErrInvalid, "line 3")
	f("a,b\n1,2\r\n\"x\ny\",1,2\n", base.ErrInvalid, "line 3")
	f("a,b\n1,x\"y\n", base.ErrInvalid, "line 2")
	f("a,b\n\"1\"x,2\n", base.ErrInvalid, "line 2")
	f("a,b\n\"unterminated,2\n", base.ErrInvalid, "line 2")
	f("a,,c\n1,2,3\n", base.ErrInvalid, "empty name")
	f("a,b,a\n1,2,3\n", base.ErrInvalid, `"a" appears twice`)
	f("_id,b\n1,2\n", base.ErrInvalid, "may not start with _")
	f("a,b\n1,2\n\xff,3\n", base.ErrInvalid, "line 3: invalid UTF-8")
	f("a\n"+strings.Repeat("x", engine.MaxEventBytes)+"\n", base.ErrTooLarge, "line 2")
	f("a\n"+strings.Repeat("1\n", maxCSVRows+1), base.ErrTooLarge, "10000 rows")
	f("a\n"+strings.Repeat("x", maxCSVBytes), base.ErrTooLarge, "limit")
	// A long header over many short rows: each event repeats the header.
	f(strings.Repeat("h", 90_000)+"\n"+strings.Repeat("1\n", 10_000), base.ErrTooLarge, "fewer rows")
	f("h"+strings.Repeat("x", 1000)+"\n"+strings.Repeat("1\n", 5000), base.ErrTooLarge, "fewer rows")
}

func TestCSVRowJSON(t *testing.T) {
	got, err := csvEventJSON([]byte("a,\"b c\",n\n\"x,y\",\"q\"\"\",1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"x,y","b c":"q\"","n":"1"}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if _, err := csvEventJSON([]byte("a\n1\n2\n")); err == nil {
		t.Fatal("two rows accepted as one event")
	}
}

// FuzzParseCSV: csvEvents never panics, errors are 400 or 413, and every
// accepted event's data re-parses as exactly the header plus one row whose
// values are the body's row.
func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n3,4\n", "a,b\r\n1,2\r\n", "a\n\"\"\n", "a,b\n\"x\ny\",\"q\"\"\"\n", "\xef\xbb\xbfa\n1",
		"a,b\n1\n", "a,a\n1,2\n", ",b\n1,2\n", "a\n", "", "a\n\"x\n", "a\nx\"y\n", "a\n\xff\n", "a\n\\.\n",
		"a\n \n", "a\n\"\r\"\n", "a,b\n\"\r\n\",\"\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := csvEvents(body, engine.Event{Index: -1}, nil)
		if err != nil {
			if !errors.Is(err, base.ErrInvalid) && !errors.Is(err, base.ErrTooLarge) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		table, err := parseCSV(body)
		if err != nil || len(table.rows) != len(evs) {
			t.Fatalf("csvEvents accepted what parseCSV refuses: %v", err)
		}
		for i, ev := range evs {
			if len(ev.Data) > engine.MaxEventBytes {
				t.Fatalf("event %d over the limit", i)
			}
			recs, err := csv.NewReader(bytes.NewReader(ev.Data)).ReadAll()
			if err != nil || len(recs) != 2 {
				t.Fatalf("event %d %q re-parses as %q, %v", i, ev.Data, recs, err)
			}
			if !reflect.DeepEqual(recs[0], table.header) || !reflect.DeepEqual(recs[1], table.rows[i]) {
				t.Fatalf("event %d %q re-parses as %q, want %q then %q", i, ev.Data, recs, table.header, table.rows[i])
			}
			js, err := csvEventJSON(ev.Data)
			var obj map[string]string
			if err != nil || json.Unmarshal(js, &obj) != nil || len(obj) != len(table.header) {
				t.Fatalf("event %d: JSON %s, %v", i, js, err)
			}
		}
	})
}

// csvRowJSON (a test helper: typed rows go through csvRowObject and
// jtd.Coerce) returns the JSON object {"header": "value", ...} of one CSV row,
// every value a string, fields in header order: what a JSON Type Definition
// validates a typed CSV row against. header and row have the same length
// (parseCSV guarantees it).
func csvRowJSON(header, row []string) []byte {
	b := []byte{'{'}
	for i, name := range header {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, name)
		b = append(b, ':')
		b = jsonx.AppendString(b, row[i])
	}
	return append(b, '}')
}

// csvEventJSON returns csvRowJSON of a stored CSV event's data (a header
// line and one row).
func csvEventJSON(data []byte) ([]byte, error) {
	t, err := parseCSV(data)
	if err != nil {
		return nil, err
	}
	if len(t.rows) != 1 {
		return nil, base.Errorf(base.ErrInvalid, "CSV event has %d rows, want 1", len(t.rows))
	}
	return csvRowJSON(t.header, t.rows[0]), nil
}

func TestLineBreaksLF(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", "a"},
		{"a\r\nb", "a\nb"},
		{"\r\r\n", "\n"},
		{"\r", "\r"},
		{"x\ry\r\n", "x\ry\n"},
		{"\r\r\rx\r\n", "\r\r\rx\n"},
		{"a\r", "a\r"},
	} {
		rec := []string{tc.in}
		lineBreaksLF(rec)
		if rec[0] != tc.want {
			t.Errorf("lineBreaksLF(%q) = %q, want %q", tc.in, rec[0], tc.want)
		}
	}
}
