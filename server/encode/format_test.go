package encode

import "testing"

func TestNegotiate(t *testing.T) {
	f := func(accept string, want Format, wantOK, wantSSE bool) {
		t.Helper()
		got, ok := Negotiate([]byte(accept))
		if got != want || ok != wantOK {
			t.Errorf("Negotiate(%q) = %s, %v; want %s, %v", accept, got, ok, want, wantOK)
		}
		if sse := WantsEventStream([]byte(accept)); sse != wantSSE {
			t.Errorf("WantsEventStream(%q) = %v, want %v", accept, sse, wantSSE)
		}
	}
	f("", JSON, true, false)
	f("  ", JSON, true, false)
	f("*/*", JSON, true, false)
	f("application/json", JSON, true, false)
	f("application/json; charset=utf-8", JSON, true, false)
	f("text/csv;q=0.5, application/x-ndjson", NDJSON, true, false)
	f("application/x-ndjson;q=0.4, text/csv;q=0.5", CSV, true, false)
	f("application/ndjson", NDJSON, true, false)
	f("text/*", CSV, true, false)
	f("TEXT/CSV", CSV, true, false)
	f("application/vnd.apache.arrow.stream", Arrow, true, false)
	f("application/vnd.apache.arrow.stream, application/json;q=0.9", Arrow, true, false)
	f("text/event-stream", JSON, false, true)
	f("text/event-stream, application/json;q=0.5", JSON, false, true)
	f("text/event-stream;q=0.1, application/json", JSON, true, false)
	f("image/png", JSON, false, false)
	f("image/*", JSON, false, false)
	// Ties: the range listed first wins.
	f("text/csv, application/json", CSV, true, false)
	// The most specific range sets a type's q: */* does not revive json;q=0.
	f("application/json;q=0, */*", NDJSON, true, false)
	f("*/*;q=0.1, application/vnd.apache.arrow.stream", Arrow, true, false)
	f("application/*", JSON, true, false)
	f("*/*;q=0", JSON, false, false)
	// Unparseable ranges are skipped; with none left the header is ignored.
	f("garbage", JSON, true, false)
	f("text/csv;q=2, application/x-ndjson", NDJSON, true, false)
	f("text/csv;q=0.25", CSV, true, false)
	f(",,, text/csv ,", CSV, true, false)
}

func TestParseQ(t *testing.T) {
	f := func(in string, want int, wantOK bool) {
		t.Helper()
		q, ok := parseQ([]byte(in))
		if q != want || ok != wantOK {
			t.Errorf("parseQ(%q) = %d, %v; want %d, %v", in, q, ok, want, wantOK)
		}
	}
	f("1", 1000, true)
	f("0", 0, true)
	f("0.5", 500, true)
	f("0.125", 125, true)
	f("1.000", 1000, true)
	f("1.001", 0, false)
	f("0.1234", 0, false)
	f("", 0, false)
	f(".5", 0, false)
	f("0.x", 0, false)
}

func TestContentType(t *testing.T) {
	f := func(format Format, want string) {
		t.Helper()
		if got := format.ContentType(); got != want {
			t.Errorf("%s.ContentType() = %q, want %q", format, got, want)
		}
	}
	f(JSON, "application/json")
	f(NDJSON, "application/x-ndjson")
	f(CSV, "text/csv; charset=utf-8")
	f(Arrow, "application/vnd.apache.arrow.stream")
}
