package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/engine"
	"github.com/valyala/fasthttp"
)

// TestForcedTimestampBounds: a forced timestamp past 9999-12-31 is refused
// with 400 (single events and bulk parts alike), and one at the bound is
// stored, read back and queried with SQL. A later one used to be accepted,
// hide its event from reads, and make every /sql query answer 500.
func TestForcedTimestampBounds(t *testing.T) {
	ts := startServer(t)
	post := func(path string, body string, hdr ...string) response {
		t.Helper()
		return ts.admin("POST", path, []byte(body), append([]string{"Content-Type", "text/plain"}, hdr...)...)
	}
	for _, v := range []string{"9223372036854776", "9223372036854775807", "253402300800000", "-1", "1e3", " 12x"} {
		if r := post("/user/ts", "x", "Timestamp", v); r.code != 400 || !strings.Contains(r.errorText(t), "9999-12-31") {
			t.Errorf("Timestamp %q: %d %s, want 400 naming the bound", v, r.code, r.body)
		}
		if r := post("/user/ts?timestamp="+strings.TrimSpace(v), "x"); r.code != 400 {
			t.Errorf("?timestamp=%s: %d %s, want 400", v, r.code, r.body)
		}
	}
	bulk := "--b\r\nTimestamp: 1000\r\n\r\none\r\n--b\r\nTimestamp: 9223372036854775807\r\n\r\ntwo\r\n--b--\r\n"
	if r := ts.admin("POST", "/user/ts", []byte(bulk), "Content-Type", "multipart/mixed; boundary=b"); r.code != 400 || !strings.Contains(r.errorText(t), "part 1") {
		t.Errorf("bulk with a part past the bound: %d %s, want 400 naming part 1", r.code, r.body)
	}
	if r := post("/user/ts", "last instant", "Timestamp", "253402300799999"); r.code != 200 || string(r.body) != "0" {
		t.Fatalf("Timestamp at the bound: %d %s, want id 0", r.code, r.body)
	}
	var ev struct {
		ID        int64  `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Data      string `json:"data"`
	}
	if r := ts.admin("GET", "/user/ts[0]", nil); r.code != 200 {
		t.Fatalf("read at the bound: %d %s", r.code, r.body)
	} else if r.json(t, &ev); ev.Timestamp != engine.MaxTimestamp || ev.Data != "last instant" {
		t.Fatalf("read at the bound: %s", r.body)
	}
	r := ts.admin("POST", "/sql", []byte(`select count(*) n, max(epoch_ms(_ts)) ms from "user"."ts"`))
	var rows []map[string]int64
	if r.json(t, &rows); r.code != 200 || len(rows) != 1 || rows[0]["n"] != 1 || rows[0]["ms"] != engine.MaxTimestamp {
		t.Fatalf("SQL over the event at the bound: %d %s", r.code, r.body)
	}
}

// TestReadSelectorsAgree: a chain in the path selects what the query
// parameters of the same meaning select, for reads and subscriptions, and
// an event that the selectors leave out is a 404 with a JSON error, not an
// empty 200.
func TestReadSelectorsAgree(t *testing.T) {
	ts := startServer(t)
	for i := range 5 {
		typ := "a"
		if i%2 == 1 {
			typ = "b"
		}
		if r := ts.admin("POST", "/user/sel:"+typ, []byte("e"), "Content-Type", "text/plain"); r.code != 200 {
			t.Fatalf("post %d: %d %s", i, r.code, r.body)
		}
	}
	for _, p := range []string{"/user/sel:a[1]", "/user/sel[1].slice(2,4)", "/user/sel[1]?eventType=a", "/user/sel[1].range(0,1)"} {
		r := ts.admin("GET", p, nil)
		if r.code != 404 || !strings.Contains(r.errorText(t), "selectors") {
			t.Errorf("GET %s: %d %q, want 404 saying the selectors leave the event out", p, r.code, r.body)
		}
	}
	if r := ts.admin("GET", "/user/sel:b[1]", nil); r.code != 200 || !strings.Contains(string(r.body), `"id":1`) {
		t.Errorf("GET /user/sel:b[1]: %d %s", r.code, r.body)
	}
	for _, p := range []string{"/user/sel.limit(0)", "/user/sel?limit=0", "/user/sel.limit(1000001)", "/user/sel?limit=1000001", "/user/sel?limit=ten"} {
		if r := ts.admin("GET", p, nil); r.code != 400 || !strings.Contains(r.errorText(t), "from 1 to 1000000") {
			t.Errorf("GET %s: %d %s, want 400 naming the range of limits", p, r.code, r.body)
		}
	}
	for _, p := range []string{"/user/sel?from=2&to=1", "/user/sel?since=9&until=5", "/user/sel.slice(2,1)", "/user/sel.range(9,5)"} {
		if r := ts.admin("GET", p, nil); r.code != 400 || !strings.Contains(r.errorText(t), "before the start") {
			t.Errorf("GET %s: %d %s, want 400 saying the end is before the start", p, r.code, r.body)
		}
	}
	for _, p := range []string{"/user/sel?from=1&to=1", "/user/sel?since=5&until=5"} {
		if r := ts.admin("GET", p, nil); r.code != 200 || string(bytes.TrimSpace(r.body)) != "[]" {
			t.Errorf("GET %s: %d %s, want 200 [] (an empty range)", p, r.code, r.body)
		}
	}
	ids := func(p string) []int64 {
		t.Helper()
		r := ts.admin("GET", p, nil)
		var evs []struct {
			ID int64 `json:"id"`
		}
		r.json(t, &evs)
		out := []int64{}
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	for _, pair := range [][2]string{
		{"/user/sel.slice(0,2)", "/user/sel?from=0&to=2"},
		{"/user/sel.limit(2)", "/user/sel?limit=2"},
		{"/user/sel.slice(0,5).eventType('b')", "/user/sel?from=0&to=5&eventType=b"},
	} {
		a, b := ids(pair[0]), ids(pair[1])
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) || len(a) == 0 {
			t.Errorf("%s gives %s, %s gives %s", pair[0], ja, pair[1], jb)
		}
	}
	// A subscription with .slice(0, n) replays from 0, as ?from=0 does.
	for _, p := range []string{"/user/sel.slice(0,2)", "/user/sel?from=0&to=2"} {
		c := ts.subscribe(p)
		for _, want := range []string{"0", "1"} {
			if ev := c.next(); ev["id"] != want {
				t.Fatalf("subscribe %s: %v, want id %s", p, ev, want)
			}
		}
	}
}

// TestRequestHeadersLimit: request headers up to 16 KiB are read; more get
// 431 with a JSON error that does not quote the request (its Authorization
// header least of all). A control character in a header is a 400 with a
// JSON error.
func TestRequestHeadersLimit(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("POST", "/user/h", []byte("x"), "Content-Type", "text/plain", "X-Big", strings.Repeat("y", 8<<10)); r.code != 200 {
		t.Fatalf("8 KiB header: %d %s", r.code, r.body)
	}
	r := ts.admin("POST", "/user/h", []byte("x"), "Content-Type", "text/plain", "X-Big", strings.Repeat("y", 20<<10))
	if r.code != 431 || !strings.Contains(r.errorText(t), "16384") || strings.Contains(string(r.body), testAdminKey) {
		t.Fatalf("20 KiB header: %d %s, want 431 naming the limit, without the request", r.code, r.body)
	}
	// net/http will not send a control character in a header; a browser
	// will not either, but a raw client may.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /user/h HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: text/plain\r\n"+
		"Event-Type: a\x01b\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx", testAdminKey)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Error string `json:"error"`
	}
	if resp.StatusCode != 400 || json.Unmarshal(body, &e) != nil || e.Error == "" || strings.Contains(string(body), testAdminKey) {
		t.Fatalf("control character in Event-Type: %d %q, want 400 with a JSON error", resp.StatusCode, body)
	}
}

// TestErrorBodyIsJSON: whatever an error message holds (control
// characters, invalid UTF-8 from a client's bytes), the body is JSON.
func TestErrorBodyIsJSON(t *testing.T) {
	for _, msg := range []string{"plain", "ctl \x01 \x1f", "bad utf-8 \xff\xfe", `quote " backslash \`, "line\nbreak", "\u2028"} {
		var ctx fasthttp.RequestCtx
		writeErrorBody(&ctx, 400, msg, 0)
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(ctx.Response.Body(), &e); err != nil || e.Error != strings.ToValidUTF8(msg, "\uFFFD") && e.Error != strings.ToValidUTF8(msg, "\uFFFD\uFFFD") {
			t.Errorf("message %q: body %s (%v)", msg, ctx.Response.Body(), err)
		}
	}
}

// TestSQLResultLimit: a /sql answer over MaxSQLResultBytes is a 413 naming
// the limit, in every format; one under it is whole.
func TestSQLResultLimit(t *testing.T) {
	ts := startServer(t, func(o *Options, _ *engine.Options) { o.MaxSQLResultBytes = 1 << 20 })
	for _, accept := range []string{"application/json", "text/csv", "application/x-ndjson", arrowStreamType} {
		r := ts.admin("POST", "/sql", []byte("select range n, 'some text' s from range(1000000)"), "Accept", accept)
		if r.code != 413 || !strings.Contains(r.errorText(t), "1048576 bytes") {
			t.Errorf("%s: a result over the limit: %d %.200s", accept, r.code, r.body)
		}
		r = ts.admin("POST", "/sql", []byte("select range n from range(1000)"), "Accept", accept)
		if r.code != 200 || len(r.body) < 1000 {
			t.Errorf("%s: a result under the limit: %d %.200s", accept, r.code, r.body)
		}
	}
}

// TestHeadStream: HEAD on a stream answers as GET would, without the body:
// the same status and Content-Type for a listing, an event, a missing
// event and a subscription (which it does not open), and 401 without a
// key on a private stream.
func TestHeadStream(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("POST", "/user/head", []byte(`{"a":1}`), "Content-Type", "application/json"); r.code != 200 {
		t.Fatalf("post: %d %s", r.code, r.body)
	}
	for _, c := range []struct {
		path, accept string
		code         int
		ctype        string
	}{
		{"/user/head", "application/json", 200, "application/json"},
		{"/user/head", "text/csv", 200, "text/csv"},
		{"/user/head[0]", "", 200, "application/json"},
		{"/user/head[5]", "", 404, "application/json"},
		{"/user/head", "text/event-stream", 200, "text/event-stream"},
	} {
		// A subscription's GET never ends: its headers are what HEAD must say.
		get := response{code: 200, header: http.Header{"Content-Type": {"text/event-stream"}}}
		if c.accept != "text/event-stream" {
			get = ts.admin("GET", c.path, nil, "Accept", c.accept)
		}
		head := ts.admin("HEAD", c.path, nil, "Accept", c.accept)
		if head.code != c.code || get.code != c.code || len(head.body) != 0 ||
			!strings.HasPrefix(head.header.Get("Content-Type"), c.ctype) || !strings.HasPrefix(get.header.Get("Content-Type"), c.ctype) {
			t.Errorf("HEAD %s (Accept %q): %d %q, %d bytes; GET %d %q; want %d %s and no body",
				c.path, c.accept, head.code, head.header.Get("Content-Type"), len(head.body), get.code, get.header.Get("Content-Type"), c.code, c.ctype)
		}
	}
	if r := ts.do("HEAD", "/user/head", nil); r.code != 401 {
		t.Errorf("HEAD without a key: %d, want 401", r.code)
	}
}
