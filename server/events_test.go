package server

import (
	"bytes"
	"context"
	"fmt"

	"encoding/csv"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"strconv"
	"strings"
	"testing"
)

// TestPipetEvents replays the seed document's single-event requests
// (pipet-http.txt) as fetch and curl send them, against a fresh server.
func TestPipetEvents(t *testing.T) {
	ts := startServer(t)
	post := func(path, ct string, body []byte, hdr ...string) response {
		t.Helper()
		h := append([]string{"Authorization", "Bearer " + testAdminKey}, hdr...)
		if ct != "" {
			h = append(h, "Content-Type", ct)
		}
		return ts.do("POST", path, body, h...)
	}
	id := func(r response, want int64) {
		t.Helper()
		if r.code != 200 || strings.TrimSpace(string(r.body)) != strconv.FormatInt(want, 10) ||
			r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("want id %d: %d %q %v", want, r.code, r.body, r.header)
		}
	}
	// fetch(url, {method: 'POST', body: 'Hello, world!'}): the stream is
	// created by this first write.
	id(post("/user/stream", "text/plain;charset=UTF-8", []byte("Hello, world!")), 0)
	// POST /user/stream:click with JSON.
	id(post("/user/stream:click", "application/json", []byte(`{"url": "https://pipet.io", "xpath": ["html", "body", "div", "a"]}`)), 1)
	// curl -d 'Hello, world!' sends a form content type.
	id(post("/user/stream", "application/x-www-form-urlencoded", []byte("Hello, world!")), 2)
	// Forced timestamp: in the future is fine, earlier than the last is 409.
	id(post("/user/stream", "text/plain", []byte("stamped"), "Timestamp", "4102444800000"), 3)
	if r := post("/user/stream", "text/plain", []byte("late"), "Timestamp", "1677633286640"); r.code != 409 {
		t.Fatalf("earlier timestamp: %d %s", r.code, r.body)
	}
	// At-most-once: [n] must be the next id.
	if r := post("/user/stream[1]", "text/plain", []byte("dup")); r.code != 409 {
		t.Fatalf("[1] when the next id is 4: %d %s", r.code, r.body)
	}
	id(post("/user/stream[4]", "text/plain", []byte("Hello, world!")), 4)
	// Metadata: the header wins over the query parameter.
	id(post("/user/stream?event-type=fromquery", "text/plain", []byte("x"), "Event-Type", "fromheader"), 5)
	id(post("/user/stream?event-type=fromquery", "text/plain", []byte("y")), 6)
	// Binary data.
	id(post("/user/stream:blob", "application/octet-stream", []byte{0xff, 0x00, 0xfe}), 7)
	for _, c := range []struct {
		name    string
		r       response
		code    int
		message string
	}{
		{"event type over 100", post("/user/stream", "text/plain", nil, "Event-Type", strings.Repeat("t", 101)), 400, "100"},
		{"data over 100 KiB", post("/user/stream", "text/plain", make([]byte, 100<<10+1)), 413, "limit"},
		{"bulk without parts", post("/user/stream", "multipart/mixed; boundary=b", []byte("--b--\n")), 400, "part"},
		{"bulk without boundary", post("/user/stream", "multipart/mixed", []byte("x")), 400, "boundary"},
		{"no key", ts.do("POST", "/user/stream", []byte("x")), 401, "Authorization"},
		{"forbidden name", post("/user/this", "text/plain", []byte("x")), 400, "forbidden"},
		{"bad path", post("/user/stream(", "text/plain", []byte("x")), 400, "at 13"},
		{"no media type, no event type", post("/user/stream", ";;;", []byte("x")), 400, "no media type"},
		{"bulk part without a media type", post("/user/stream", "multipart/mixed; boundary=b", []byte("--b\r\nContent-Type: ;\r\n\r\nx\r\n--b--\r\n")), 400, "part 0: Content-Type"},
		{"empty eventType", ts.admin("GET", "/user/stream?eventType=", nil), 400, "eventType: event type is empty"},
		{"eventType not UTF-8", ts.admin("GET", "/user/stream?eventType=%FF", nil), 400, "invalid UTF-8"},
	} {
		if c.r.code != c.code || !strings.Contains(c.r.errorText(t), c.message) {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.name, c.r.code, c.r.body, c.code, c.message)
		}
	}
	// Bulk push, as the seed's curl sends it (LF line ends, a preamble):
	// each part an event, in order; the answer is the array of ids.
	r := post("/user/stream", "multipart/mixed; boundary=uuid-boundary",
		[]byte("A preamble can be included.\n--uuid-boundary\n\nHello, world!\n--uuid-boundary\n\nHi, again!\n--uuid-boundary--\n"))
	if r.code != 200 || strings.TrimSpace(string(r.body)) != "[8,9]" {
		t.Fatalf("bulk: %d %s", r.code, r.body)
	}
	// Part headers; and all or nothing: a part stamped before the stream's
	// last timestamp fails the whole request.
	r = post("/user/stream", "multipart/mixed; boundary=b", []byte("--b\r\nContent-Type: application/json\r\nEvent-Type: order\r\n\r\n{}\r\n"+
		"--b\r\nTimestamp: 1000\r\n\r\nold\r\n--b--\r\n"))
	if r.code != 409 {
		t.Fatalf("bulk with an old timestamp: %d %s", r.code, r.body)
	}
	id(post("/user/stream", "text/plain", []byte("after the refused bulk")), 10)
	r = post("/user/stream", "multipart/mixed; boundary=b", []byte("--b\r\nContent-Type: application/json\r\nEvent-Type: order\r\n\r\n{\"n\":1}\r\n--b--\r\n"))
	if r.code != 200 || strings.TrimSpace(string(r.body)) != "[11]" {
		t.Fatalf("bulk of one: %d %s", r.code, r.body)
	}
	var bulkOne map[string]any
	ts.admin("GET", "/user/stream[11]", nil).json(t, &bulkOne)
	if bulkOne["event"] != "order" || bulkOne["data"] != `{"n":1}` {
		t.Fatalf("bulk part's headers: %v", bulkOne)
	}
	var second map[string]any
	ts.admin("GET", "/user/stream[9]", nil).json(t, &second)
	if second["data"] != "Hi, again!" || second["event"] != "text/plain" {
		t.Fatalf("bulk part 2: %v", second)
	}
	// A topic takes JSON rows of its schema, not other events.
	ts.createDemo("demo/events")
	if r := post("/demo/events", "text/plain", []byte(`hello`)); r.code != 415 {
		t.Fatalf("text into a topic: %d %s", r.code, r.body)
	}

	// Reads, as in the seed's responses.
	get := func(path string, hdr ...string) response {
		t.Helper()
		r := ts.admin("GET", path, nil, hdr...)
		if r.code != 200 {
			t.Fatalf("GET %s: %d %s", path, r.code, r.body)
		}
		return r
	}
	var one map[string]any
	get("/user/stream[0]").json(t, &one)
	if one["id"] != 0.0 || one["event"] != "text/plain" || one["data"] != "Hello, world!" {
		t.Fatalf("[0] = %v", one)
	}
	get("/user/stream[7]").json(t, &one)
	if one["encoding"] != "base64" || one["data"] != "/wD+" {
		t.Fatalf("binary event = %v", one)
	}
	rows, err := csv.NewReader(bytes.NewReader(get("/user/stream[2]", "Accept", "text/csv").body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][2] != "application/x-www-form-urlencoded" || rows[1][3] != "Hello, world!" {
		t.Fatalf("csv: %q %v", rows, err)
	}
	events := func(path string) []string {
		var evs []map[string]any
		get(path).json(t, &evs)
		var out []string
		for _, e := range evs {
			out = append(out, strconv.Itoa(int(e["id"].(float64)))+":"+e["event"].(string))
		}
		return out
	}
	for path, want := range map[string]string{
		"/user/stream?eventType=click":                          "[1:click]",
		"/user/stream.eventType('click')":                       "[1:click]",
		"/user/stream:click":                                    "[1:click]",
		"/user/stream.eventType('text/plain').limit(2)":         "[0:text/plain 3:text/plain]",
		"/user/stream?eventType=fromheader&eventType=fromquery": "[5:fromheader 6:fromquery]",
		"/user/stream.eventType('click')?eventType=blob":        "[]",
	} {
		if got := strings.Join(events(path), " "); "["+got+"]" != want {
			t.Errorf("GET %s: %s, want %s", path, got, want)
		}
	}
	// The same after a flush, from Parquet, and through SQL.
	if r := ts.admin("POST", "/_/flush", nil); r.code != 200 {
		t.Fatal(r.code)
	}
	if got := strings.Join(events("/user/stream.eventType('text/plain').limit(2)"), " "); got != "0:text/plain 3:text/plain" {
		t.Fatalf("after flush: %s", got)
	}
	r = ts.admin("POST", "/sql", []byte(`select _id, _event, _content_type, decode(_data) as data from "user"."stream" where _id < 2 order by _id`))
	var sqlRows []map[string]any
	r.json(t, &sqlRows)
	if len(sqlRows) != 2 || sqlRows[0]["data"] != "Hello, world!" || sqlRows[1]["_event"] != "click" {
		t.Fatalf("sql: %s", r.body)
	}
}

// TestRateLimited: over a stream's rate limit, writes get 429 with the
// retry hints of SPEC 4, as JSON and headers, for events and Arrow alike.
func TestRateLimited(t *testing.T) {
	ts := startServer(t)
	key := []string{"Authorization", "Bearer " + testAdminKey, "Content-Type", "text/plain"}
	if r := ts.do("POST", "/user/limited", []byte("x"), key...); r.code != 200 {
		t.Fatal(r.code)
	}
	st, err := ts.eng.Stream(base.StreamName{Account: "user", Name: "limited"})
	if err != nil {
		t.Fatal(err)
	}
	st.SetRateLimit(engine.RateLimit{EventsPerSecond: 2})
	var limited response
	for i := 0; i < 10; i++ {
		if r := ts.do("POST", "/user/limited", []byte("x"), key...); r.code == 429 {
			limited = r
			break
		}
	}
	if limited.code != 429 {
		t.Fatal("10 events at once were not limited to 2/s")
	}
	var body struct {
		Error        string `json:"error"`
		RetryAfterMs int64  `json:"retry_after_ms"`
	}
	limited.json(t, &body)
	if body.RetryAfterMs <= 0 || body.RetryAfterMs > 1000 || !strings.Contains(body.Error, "rate limit") ||
		limited.header.Get("X-Retry-After-Ms") != strconv.FormatInt(body.RetryAfterMs, 10) || limited.header.Get("Retry-After") != "1" {
		t.Fatalf("429: %s %v", limited.body, limited.header)
	}
	// A factory's limit bounds its substreams together: new arguments do
	// not bring new buckets.
	if r := ts.admin("PUT", "/_/streams/user/lf", []byte(`{"factory": true}`)); r.code != 200 && r.code != 201 {
		t.Fatalf("factory: %d %s", r.code, r.body)
	}
	lf, _ := ts.eng.Stream(base.StreamName{Account: "user", Name: "lf"})
	lf.SetRateLimit(engine.RateLimit{EventsPerSecond: 3})
	admitted := 0
	for i := range 6 {
		if r := ts.do("POST", fmt.Sprintf("/user/lf('arg%d')", i), []byte("x"), key...); r.code == 200 {
			admitted++
		} else if r.code != 429 || !strings.Contains(r.errorText(t), "(3 events/s: streams[].rate_limit)") {
			t.Fatalf("substream %d: %d %s", i, r.code, r.body)
		}
	}
	if admitted > 4 { // 3, and one more if a third of a second went by
		t.Fatalf("6 substreams of a factory limited to 3 events/s admitted %d events at once", admitted)
	}
	tok := ts.createDemo("demo/events")
	demo, _ := ts.eng.Stream(base.StreamName{Account: "demo", Name: "events"})
	demo.SetRateLimit(engine.RateLimit{BytesPerSecond: 1000})
	if r := ts.ingest(tok, demoBatch(t, 100, 0)); r.code != 200 {
		t.Fatalf("first Arrow batch: %d %s", r.code, r.body) // admitted when the bucket is full
	}
	if r := ts.ingest(tok, demoBatch(t, 100, 0)); r.code != 429 || r.header.Get("X-Retry-After-Ms") == "" {
		t.Fatalf("second Arrow batch over 1000 bytes/s: %d %s", r.code, r.body)
	}
}

// TestStreamMethods: a stream path answers GET and HEAD, POST where events
// can be written and PUT where a type can be defined; any other method gets
// 405 with an Allow header naming the path's methods and a JSON body, as
// it does on the fixed paths.
func TestStreamMethods(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("POST", "/eric/methods", []byte("hi")); r.code != 200 {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	for _, c := range []struct{ method, path, allow, says string }{
		{"DELETE", "/eric/methods", "GET, HEAD, POST", "POST to append"},
		{"PATCH", "/eric/methods", "GET, HEAD, POST", "POST to append"},
		{"OPTIONS2", "/eric/methods:click", "GET, HEAD, POST, PUT", "POST to append"},
		{"PUT", "/eric/methods", "GET, HEAD, POST", "PUT /{account}/{stream}:{type}"},
		{"PUT", "/eric/methods('a'):click", "GET, HEAD, POST", "PUT /{account}/{stream}:{type}"},
		{"POST", "/eric/methods:click.ts", "GET, HEAD", "read with GET"},
		{"DELETE", "/eric/methods:click.json", "GET, HEAD", "it allows GET, HEAD"},
		{"POST", "/healthz", "GET, HEAD", "it allows GET, HEAD"},
		{"PUT", "/metrics", "GET, HEAD", "it allows GET, HEAD"},
		{"GET", "/sql", "POST", "it allows POST"},
		{"GET", "/ingest/tok", "POST", "it allows POST"},
		{"POST", "/ingest/tok/schema", "GET", "it allows GET"},
	} {
		r := ts.admin(c.method, c.path, nil)
		if r.code != 405 {
			t.Fatalf("%s %s: %d %s, want 405", c.method, c.path, r.code, r.body)
		}
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
		if msg := r.errorText(t); !strings.Contains(msg, c.says) {
			t.Errorf("%s %s: error %q does not say %q", c.method, c.path, msg, c.says)
		}
	}
	// HEAD is GET without the body, on a type's documents too.
	if r := ts.admin("PUT", "/eric/methods:click", []byte(`{"properties":{"x":{"type":"string"}}}`)); r.code != 201 {
		t.Fatalf("PUT type: %d %s", r.code, r.body)
	}
	for _, p := range []string{"/eric/methods:click.json", "/eric/methods:click.ts"} {
		get, head := ts.admin("GET", p, nil), ts.admin("HEAD", p, nil)
		if get.code != 200 || head.code != 200 || len(head.body) != 0 ||
			head.header.Get("Content-Type") != get.header.Get("Content-Type") {
			t.Errorf("%s: GET %d %q, HEAD %d %q %q", p, get.code, get.header.Get("Content-Type"), head.code, head.header.Get("Content-Type"), head.body)
		}
	}
}

// TestWriteTargetErrors: a POST to something that is not a stream says what
// it is and what to do instead.
func TestWriteTargetErrors(t *testing.T) {
	ts := startServer(t)
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/user/stream.slice(0,2)", 400, "a write takes no selectors (.slice)"},
		{"/user/stream.eventType('a')", 400, "a write takes no selectors (.eventType)"},
		{"/user/stream:click.json", 405, "a type's definition is read with GET"},
		{"/user/stream:click.ts", 405, "defined with PUT /{account}/{stream}:{type}"},
		{"/user/stream.reducer", 404, "reducers, logs and pipes are not served yet"},
		{"/sys/events(user)", 404, `account "sys" is reserved for built-in streams`},
		{"/user/nofactory('a')", 404, "needs a stream factory, declared through PUT /_/streams/user/nofactory"},
		// DuckDB's own catalogs and schemas would break /sql for everyone.
		{"/temp/x", 400, `account "temp" is reserved: DuckDB has a catalog or schema of that name`},
		{"/system/x", 400, `account "system" is reserved`},
		{"/memory/x", 400, `account "memory" is reserved`},
		{"/information_schema/x", 400, `account "information_schema" is reserved`},
		{"/pg_catalog/x", 400, `account "pg_catalog" is reserved`},
	} {
		r := ts.admin("POST", c.path, []byte("x"))
		if r.code != c.code || !strings.Contains(r.errorText(t), c.want) {
			t.Errorf("POST %s: %d %s, want %d saying %q", c.path, r.code, r.body, c.code, c.want)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/_/topics", `{"name":"temp/y","fields":[{"name":"a","type":"utf8"}]}`},
		{"PUT", "/_/streams/temp/y", `{"factory": true}`},
	} {
		if r := ts.admin(c.method, c.path, []byte(c.body)); r.code != 400 || !strings.Contains(r.errorText(t), "reserved") {
			t.Errorf("%s %s for account temp: %d %s, want 400", c.method, c.path, r.code, r.body)
		}
	}
	// Main is DuckDB's default schema, and works as an account.
	if r := ts.admin("POST", "/main/x", []byte("x")); r.code != 200 {
		t.Errorf("POST /main/x: %d %s", r.code, r.body)
	}
	if got := ts.sqlRows(`select count(*) n from main.x`); got != `[{"n":1}]` {
		t.Errorf("SQL after the refused accounts: %s", got)
	}
}

// TestInvalidUTF8ContentType: a Content-Type that is not UTF-8 (of a request
// or of a bulk part) is refused, since _content_type and _event are utf8
// columns that DuckDB could then not read, and the stream stays queryable.
func TestInvalidUTF8ContentType(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("POST", "/user/utf", []byte("ok"), "Content-Type", "text/plain"); r.code != 200 {
		t.Fatalf("first event: %d %s", r.code, r.body)
	}
	bulk := "--b\r\nContent-Type: text/pl\xffain\r\nEvent-Type: fine\r\n\r\nx\r\n--b--\r\n"
	for _, c := range []struct {
		name, ct, body string
	}{
		{"single", "text/pl\xffain", "x"},
		{"typed by header", "application/\xfejson", "x"},
		{"bulk part", "multipart/mixed; boundary=b", bulk},
	} {
		r := ts.admin("POST", "/user/utf", []byte(c.body), "Content-Type", c.ct, "Event-Type", "fine")
		if r.code != 400 || !strings.Contains(r.errorText(t), "not valid UTF-8") {
			t.Errorf("%s: %d %s, want 400 naming the invalid UTF-8", c.name, r.code, r.body)
		}
	}
	if err := ts.eng.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := ts.admin("POST", "/sql", []byte(`select count(*) n from "user"."utf"`))
	if r.code != 200 || !strings.Contains(string(r.body), `"n":1`) {
		t.Fatalf("SQL after the refused writes: %d %s", r.code, r.body)
	}
}

// TestPathDecodedOnce: a stream path is percent-decoded once, as RFC 3986
// has it: %2541 is the three characters %41, in an event type and in a
// substream argument alike.
func TestPathDecodedOnce(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("POST", "/user/once:a%2541", []byte("x")); r.code != 200 {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	if r := ts.admin("POST", "/user/once:%27b%20c%27", []byte("y")); r.code != 200 {
		t.Fatalf("POST with a quoted, encoded type: %d %s", r.code, r.body)
	}
	r := ts.admin("GET", "/user/once", nil)
	var evs []struct{ Event string }
	r.json(t, &evs)
	if len(evs) != 2 || evs[0].Event != "a%41" || evs[1].Event != "b c" {
		t.Fatalf("event types %s, want a%%41 and b c", r.body)
	}
	if r := ts.admin("PUT", "/_/streams/user/oncef", []byte(`{"factory": true}`)); r.code != 201 {
		t.Fatalf("factory: %d %s", r.code, r.body)
	}
	if r := ts.admin("POST", "/user/oncef('x%2541')", []byte("z")); r.code != 200 {
		t.Fatalf("POST to a substream: %d %s", r.code, r.body)
	}
	r = ts.admin("GET", "/_/streams/user/oncef/substreams", nil)
	if !strings.Contains(string(r.body), `'x%41'`) {
		t.Fatalf("substreams %s, want 'x%%41'", r.body)
	}
	// net/http re-encodes a path that holds a non-ASCII byte or a '"',
	// '(' and '\'' included: the server must read them as delimiters.
	for _, p := range []string{`/user/oncef('é')`, `/user/oncef("é"):'a b'`} {
		if r := ts.admin("POST", p, []byte("é")); r.code != 200 {
			t.Errorf("POST %s through net/http: %d %s", p, r.code, r.body)
		}
	}
	// %2F is never a separator: it is a character of the name.
	for _, p := range []string{"/user%2Fonce", "/user/once%2Fx"} {
		if r := ts.admin("POST", p, []byte("x")); r.code != 400 || !strings.Contains(r.errorText(t), "percent-encoded (%2F)") {
			t.Errorf("POST %s: %d %s, want 400 saying %%2F is part of the name", p, r.code, r.body)
		}
	}
}
