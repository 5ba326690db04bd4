package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// post sends one text event and returns the answer.
func (ts *testServer) post(path, body string, headers ...string) response {
	ts.t.Helper()
	return ts.admin("POST", path, []byte(body), append([]string{"Content-Type", "text/plain"}, headers...)...)
}

// wantID checks that r is a 200 with the id want.
func wantID(t *testing.T, what string, r response, want int64) {
	t.Helper()
	var id int64
	if r.code != 200 {
		t.Fatalf("%s: %d %s", what, r.code, r.body)
	}
	r.json(t, &id)
	if id != want {
		t.Fatalf("%s: id %d, want %d", what, id, want)
	}
}

// sqlRows runs q as the admin and returns its rows as compact JSON.
func (ts *testServer) sqlRows(q string) string {
	ts.t.Helper()
	r := ts.admin("POST", "/sql", []byte(q))
	if r.code != 200 {
		ts.t.Fatalf("sql %s: %d %s", q, r.code, r.body)
	}
	var rows []map[string]any
	r.json(ts.t, &rows)
	b, _ := json.Marshal(rows)
	return string(b)
}

// listData returns "id:data:sub" of a listing.
func listData(t *testing.T, r response) string {
	t.Helper()
	if r.code != 200 {
		t.Fatalf("listing: %d %s", r.code, r.body)
	}
	var evs []struct {
		ID   int64  `json:"id"`
		Data string `json:"data"`
		Sub  string `json:"sub"`
	}
	r.json(t, &evs)
	var out []string
	for _, e := range evs {
		out = append(out, strings.Join([]string{jsonNum(e.ID), e.Data, e.Sub}, ":"))
	}
	return strings.Join(out, " ")
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestSubstreams: the seed's example, POST /eric/events(1) then (2), over
// real HTTP: each substream has ids from 0, reads and SQL see them apart
// and together, segments land under sub= folders, and a restart keeps it
// all.
func TestSubstreams(t *testing.T) {
	ts := startServer(t)
	r := ts.admin("PUT", "/_/streams/eric/events", []byte(`{"factory": true}`))
	if r.code != 201 {
		t.Fatalf("declare the factory: %d %s", r.code, r.body)
	}
	wantID(t, "(1) first", ts.post("/eric/events(1)", "a"), 0)
	wantID(t, "(1) second", ts.post("/eric/events(1)", "b"), 1)
	wantID(t, "(2) first", ts.post("/eric/events(2)", "c"), 0)
	wantID(t, "('x') first", ts.post("/eric/events('x')", "d"), 0)
	wantID(t, `("x") is ('x')`, ts.post(`/eric/events("x")`, "e"), 1)
	wantID(t, "(1.0) is (1)", ts.post("/eric/events(1.0)", "f"), 2)

	for _, c := range []struct {
		method, path string
		code         int
		says         string
	}{
		{"POST", "/eric/events", 400, "factory"},
		{"GET", "/eric/events", 400, "argument"},
		{"GET", "/eric/events(3)", 404, "does not exist"},
		{"GET", "/eric/events(2)[5]", 404, "eric/events(2) has no event 5"},
		{"POST", "/eric/nofactory(1)", 404, "factory"},
		{"PUT", "/eric/events(1):click", 405, "a substream's types are its factory's: PUT /eric/events:{type}"},
	} {
		r := ts.admin(c.method, c.path, []byte("z"), "Content-Type", "text/plain")
		if r.code != c.code || !strings.Contains(r.errorText(t), c.says) {
			t.Errorf("%s %s: %d %s, want %d saying %q", c.method, c.path, r.code, r.body, c.code, c.says)
		}
	}
	ts.admin("PUT", "/eric/empty:t", []byte(`{"properties":{}}`)) // a stream with no events
	if r := ts.admin("GET", "/eric/empty[0]", nil); r.code != 404 || !strings.Contains(r.errorText(t), "eric/empty has no event 0 (it holds no events)") {
		t.Errorf("an empty stream's [0]: %d %s", r.code, r.body)
	}
	wantID(t, "plain stream", ts.post("/eric/plain", "p"), 0)
	if r := ts.post("/eric/plain(1)", "p"); r.code != 404 || !strings.Contains(r.errorText(t), "not a stream factory") {
		t.Errorf("argument on a plain stream: %d %s", r.code, r.body)
	}
	if r := ts.admin("PUT", "/_/streams/eric/plain", []byte(`{"factory": true}`)); r.code != 409 {
		t.Errorf("factory on a stream with events: %d %s", r.code, r.body)
	}

	check := func(stage string) {
		t.Helper()
		if got := listData(t, ts.admin("GET", "/eric/events(1)", nil)); got != "0:a:1 1:b:1 2:f:1" {
			t.Fatalf("%s: (1) = %s", stage, got)
		}
		if got := listData(t, ts.admin("GET", "/eric/events('x').slice(1)", nil)); got != "1:e:'x'" {
			t.Fatalf("%s: ('x').slice(1) = %s", stage, got)
		}
		r := ts.admin("GET", "/eric/events(2)[0]", nil)
		if r.code != 200 || !strings.Contains(string(r.body), `"data":"c"`) {
			t.Fatalf("%s: (2)[0] = %d %s", stage, r.code, r.body)
		}
		got := ts.sqlRows(`select _sub, count(*) as n, max(_id) as last from "eric"."events" group by _sub order by _sub`)
		if want := `[{"_sub":"'x'","last":1,"n":2},{"_sub":"1","last":2,"n":3},{"_sub":"2","last":0,"n":1}]`; got != want {
			t.Fatalf("%s: sql across substreams = %s, want %s", stage, got, want)
		}
		// One substream alone, a non-first column and a WHERE.
		got = ts.sqlRows(`select decode(_data) as d from "eric"."events(1)" where _id >= 1 order by _id`)
		if want := `[{"d":"b"},{"d":"f"}]`; got != want {
			t.Fatalf("%s: sql on one substream = %s, want %s", stage, got, want)
		}
	}
	check("tail")
	if r := ts.admin("POST", "/_/flush", nil); r.code != 200 {
		t.Fatalf("flush: %d %s", r.code, r.body)
	}
	check("flushed")
	// SPEC 3's layout.
	for _, key := range []string{
		"streams/eric/events/sub=1/00000000000000000000-00000000000000000002.parquet",
		"streams/eric/events/sub=%27x%27/00000000000000000000-00000000000000000001.parquet",
		"streams/eric/events/sub=2/00000000000000000000-00000000000000000000.parquet",
	} {
		if _, err := os.Stat(filepath.Join(ts.dir, filepath.FromSlash(key))); err != nil {
			t.Errorf("segment %s: %v", key, err)
		}
	}
	ts.stop()
	ts = startServerAt(t, ts.dir)
	check("restarted")
	wantID(t, "(2) after restart", ts.post("/eric/events(2)", "g"), 1)
	r = ts.admin("GET", "/_/streams/eric/events/substreams", nil)
	if r.code != 200 || !strings.Contains(string(r.body), `"path":"/eric/events(2)","next_id":2`) {
		t.Fatalf("substreams: %d %s", r.code, r.body)
	}
}

// TestBlocklists: writes whose Referer or factory argument a blocklist
// lists are answered 202 null and not stored; reads are not affected.
func TestBlocklists(t *testing.T) {
	ts := startServer(t)
	r := ts.admin("PUT", "/_/streams/eric/events", []byte(`{"factory": true,
		"blocklist": {"referers": ["Spam.example", "/ads/", "app.example.com"], "arguments": ["\"bad\"", "13"]}}`))
	if r.code != 201 {
		t.Fatalf("settings: %d %s", r.code, r.body)
	}
	var got streamJSON
	ts.admin("GET", "/_/streams/eric/events", nil).json(t, &got)
	if !got.Factory || strings.Join(got.Blocklist.Referers, ",") != "spam.example,/ads/,app.example.com" ||
		strings.Join(got.Blocklist.Arguments, ",") != "'bad',13" {
		t.Fatalf("settings read back: %+v", got)
	}
	wantID(t, "a good write", ts.post("/eric/events(1)", "ok", "Referer", "https://good.example/spam.example"), 0)
	for _, c := range []struct {
		path    string
		headers []string
	}{
		{"/eric/events('bad')", nil},
		{"/eric/events(13.0)", nil},
		{"/eric/events(1)", []string{"Referer", "https://www.SPAM.example/page"}},
		{"/eric/events(1)", []string{"Origin", "https://app.example.com"}}, // no Referer: the Origin
		{"/eric/events(1)", []string{"Referer", "https://good.example/ads/x"}},
	} {
		r := ts.post(c.path, "spam", c.headers...)
		if r.code != 202 || string(r.body) != "null" {
			t.Errorf("%s %v: %d %s, want 202 null", c.path, c.headers, r.code, r.body)
		}
	}
	wantID(t, "a good write after", ts.post("/eric/events(1)", "ok2", "Referer", "https://notspam.example/"), 1)
	if got := listData(t, ts.admin("GET", "/eric/events(1)", nil, "Referer", "https://spam.example/")); got != "0:ok:1 1:ok2:1" {
		t.Fatalf("stored: %s", got)
	}
	if r := ts.admin("GET", "/eric/events('bad')", nil); r.code != 404 {
		t.Fatalf("a blocked argument made a substream: %d %s", r.code, r.body)
	}
	m := string(ts.do("GET", "/metrics", nil).body)
	for _, want := range []string{`ducktail_blocked_writes_total{reason="argument"} 2`, `ducktail_blocked_writes_total{reason="referer"} 3`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if r := ts.admin("PUT", "/_/streams/eric/events", []byte(`{"factory": true, "blocklist": {"arguments": ["1)/pipe/a/b"]}}`)); r.code != 400 {
		t.Errorf("a bad argument literal: %d %s", r.code, r.body)
	}
	// A plain stream's Referer blocklist.
	if r := ts.admin("PUT", "/_/streams/eric/plain", []byte(`{"blocklist": {"referers": ["spam.example"]}}`)); r.code != 201 {
		t.Fatalf("plain settings: %d %s", r.code, r.body)
	}
	if r := ts.post("/eric/plain", "x", "Referer", "http://spam.example:8080/"); r.code != 202 {
		t.Errorf("plain stream, blocked referer: %d %s", r.code, r.body)
	}
	wantID(t, "plain stream, good write", ts.post("/eric/plain", "y"), 0)
}

// TestAccountSubstreams: API keys of the factory's account open every
// substream; an account's own account-wide key opens its account substream
// /a/s(account) when the factory grants account_rights.
func TestAccountSubstreams(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("PUT", "/_/streams/eric/inbox", []byte(`{"factory": true, "account_rights": "w"}`)); r.code != 201 {
		t.Fatalf("settings: %d %s", r.code, r.body)
	}
	key := func(account, stream, rights string) string {
		b, _ := json.Marshal(map[string]string{"account": account, "stream": stream, "rights": rights})
		r := ts.admin("POST", "/_/keys", b)
		var out struct {
			Key string `json:"key"`
		}
		r.json(t, &out)
		if r.code != 201 {
			t.Fatalf("key: %d %s", r.code, r.body)
		}
		return out.Key
	}
	eric := key("eric", "inbox", "rw")
	bob := key("bob", "", "w")
	bobOne := key("bob", "inbox", "w")
	as := func(k string) []string { return []string{"Authorization", "Bearer " + k, "Content-Type", "text/plain"} }
	for _, c := range []struct {
		key, path, method string
		code              int
	}{
		{eric, "/eric/inbox('anything')", "POST", 200},
		{eric, "/eric/inbox(bob)", "POST", 200},
		{eric, "/eric/inbox(bob)", "GET", 200},
		{bob, "/eric/inbox(bob)", "POST", 200},
		{bob, "/eric/inbox(bob)", "GET", 403}, // account_rights grants w only
		{bob, "/eric/inbox(alice)", "POST", 403},
		{bob, "/eric/inbox('bob')", "POST", 403},  // a string, not the account
		{bobOne, "/eric/inbox(bob)", "POST", 403}, // not an account-wide key
	} {
		if r := ts.do(c.method, c.path, []byte("x"), as(c.key)...); r.code != c.code {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, r.code, r.body, c.code)
		}
	}
}

// TestTypedSubstreams: a type defined on a factory reaches its substreams,
// also those made before it, and SQL over the factory sees the typed
// columns of every substream, buffered and flushed.
func TestTypedSubstreams(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("PUT", "/_/streams/eric/clicks", []byte(`{"factory": true}`)); r.code != 201 {
		t.Fatalf("declare the factory: %d %s", r.code, r.body)
	}
	wantID(t, "(1) untyped, before the type", ts.post("/eric/clicks(1)", "hello"), 0)
	if r := ts.admin("PUT", "/eric/clicks:click", []byte(`{"properties": {"url": {"type": "string"}}}`)); r.code != 201 {
		t.Fatalf("PUT type: %d %s", r.code, r.body)
	}
	js := []string{"Content-Type", "application/json"}
	wantID(t, "(1) typed", ts.admin("POST", "/eric/clicks(1):click", []byte(`{"url": "a"}`), js...), 1)
	wantID(t, "(2) typed", ts.admin("POST", "/eric/clicks(2):click", []byte(`{"url": "b"}`), js...), 0)
	if r := ts.admin("POST", "/eric/clicks(2):click", []byte(`{"url": 1}`), js...); r.code != 400 || !strings.Contains(string(r.body), "/url") {
		t.Fatalf("invalid typed event in a substream: %d %s, want 400 naming /url", r.code, r.body)
	}
	r := ts.admin("GET", "/eric/clicks(2)[0]", nil)
	if r.code != 200 || !strings.Contains(string(r.body), `"data":{"url":"b"}`) {
		t.Fatalf("GET (2)[0]: %d %s, want data as the typed object", r.code, r.body)
	}
	const q = `SELECT _sub, _id, url FROM "eric"."clicks" ORDER BY _sub, _id`
	const want = `[{"_id":0,"_sub":"1","url":null},{"_id":1,"_sub":"1","url":"a"},{"_id":0,"_sub":"2","url":"b"}]`
	if got := ts.sqlRows(q); got != want {
		t.Fatalf("buffered: %s\nwant %s", got, want)
	}
	if r := ts.admin("POST", "/_/flush", nil); r.code != 200 {
		t.Fatalf("flush: %d %s", r.code, r.body)
	}
	if got := ts.sqlRows(q); got != want {
		t.Fatalf("flushed: %s\nwant %s", got, want)
	}
}

// TestSeedCombinedPath: the seed's "all these things combine" request,
// fetch('/eric/greetings(1):click[2]', {body: 'Hello, world!'}) with the
// key and signature as query parameters: a substream, an event type and
// at-most-once sending in one path, signed with a stream key of the
// factory over the request target as sent.
func TestSeedCombinedPath(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("PUT", "/_/streams/eric/greetings", []byte(`{"factory": true}`)); r.code != 201 {
		t.Fatalf("declare the factory: %d %s", r.code, r.body)
	}
	r := ts.admin("POST", "/_/streams/eric/greetings/keys", nil)
	var key struct {
		KeyID  string `json:"key_id"`
		Secret string `json:"secret"`
	}
	r.json(t, &key)
	signed := func(target string) string {
		m := hmac.New(sha256.New, []byte(key.Secret))
		m.Write([]byte("(request-target): post " + target))
		return target + "?key=" + url.QueryEscape(key.KeyID) + "&signature=" + hex.EncodeToString(m.Sum(nil))
	}
	text := []string{"Content-Type", "text/plain;charset=UTF-8"}
	for i, want := range []int{200, 200, 409} {
		// ids 0 and 1 go in plainly; then [2] is the next id once, and a
		// replay of it is refused.
		target := "/eric/greetings(1):click"
		if i == 2 {
			target += "[1]"
		}
		if r := ts.do("POST", signed(target), []byte("Hello, world!"), text...); r.code != want {
			t.Fatalf("POST %s: %d %s, want %d", target, r.code, r.body, want)
		}
	}
	const target = "/eric/greetings(1):click[2]"
	wantID(t, "the seed's request", ts.do("POST", signed(target), []byte("Hello, world!"), text...), 2)
	if r := ts.do("POST", signed(target), []byte("Hello, world!"), text...); r.code != 409 {
		t.Fatalf("the seed's request again: %d %s, want 409", r.code, r.body)
	}
	if r := ts.do("POST", signed("/eric/greetings(2):click[2]"), []byte("Hello, world!"), text...); r.code != 409 {
		t.Fatalf("[2] on a new substream (next id 0): %d %s, want 409", r.code, r.body)
	}
	other := signed(target)
	if r := ts.do("POST", strings.Replace(other, "(1)", "(3)", 1), []byte("x"), text...); r.code != 401 {
		t.Fatalf("a signature of (1) used on (3): %d %s, want 401", r.code, r.body)
	}
	var ev map[string]any
	ts.admin("GET", "/eric/greetings(1)[2]", nil).json(t, &ev)
	if ev["event"] != "click" || ev["data"] != "Hello, world!" {
		t.Fatalf("GET (1)[2]: %v", ev)
	}
}

// TestRefusedFirstWrite: a first write that is refused leaves no stream or
// substream behind (a stream comes into existence at its first write, not
// at its first attempt); the same write, corrected, then creates it.
func TestRefusedFirstWrite(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("PUT", "/_/streams/eric/clicks", []byte(`{"factory": true}`)); r.code != 201 {
		t.Fatalf("declare the factory: %d %s", r.code, r.body)
	}
	if r := ts.admin("PUT", "/eric/clicks:n", []byte(`{"properties": {"n": {"type": "int32"}}}`)); r.code != 201 {
		t.Fatalf("PUT type: %d %s", r.code, r.body)
	}
	csv := []string{"Content-Type", "text/csv"}
	for _, c := range []struct {
		name, path string
		body       string
		headers    []string
		code       int
	}{
		{"bulk without parts", "/eric/bulk", "--b--\r\n", []string{"Content-Type", "multipart/mixed; boundary=b"}, 400},
		{"ragged CSV", "/eric/csv", "a,b\n1\n", csv, 400},
		{"bad form", "/eric/form", testFormData, []string{"Content-Type", "multipart/form-data"}, 400},
		{"index past 0", "/eric/index[3]", "hi", nil, 409},
		{"typed CSV in a new substream", "/eric/clicks(7):n", "n\nnot a number\n", csv, 400},
		{"typed JSON in a new substream", "/eric/clicks(8):n", `{"n": "x"}`, []string{"Content-Type", "application/json"}, 400},
	} {
		r := ts.admin("POST", c.path, []byte(c.body), c.headers...)
		if r.code != c.code {
			t.Fatalf("%s: %d %s, want %d", c.name, r.code, r.body, c.code)
		}
		r.errorText(t)
		read := strings.SplitN(c.path, "[", 2)[0]
		read = strings.SplitN(read, ":", 2)[0]
		if r := ts.admin("GET", read, nil); r.code != 404 {
			t.Fatalf("%s: GET %s after the refused write: %d %s, want 404", c.name, read, r.code, r.body)
		}
	}
	for _, c := range []struct{ path, body string }{{"/eric/csv", "a,b\n1,2\n"}, {"/eric/clicks(7):n", "n\n5\n"}} {
		if r := ts.admin("POST", c.path, []byte(c.body), csv...); r.code != 200 || string(r.body) != "[0]" {
			t.Fatalf("a good first CSV write to %s: %d %s, want [0]", c.path, r.code, r.body)
		}
	}
	if r := ts.admin("GET", "/eric/clicks(7)[0]", nil); r.code != 200 || !strings.Contains(string(r.body), `"data":{"n":5}`) {
		t.Fatalf("GET /eric/clicks(7)[0]: %d %s", r.code, r.body)
	}
}

// TestSubstreamSpellings: arguments are JavaScript literals, so every
// spelling of one number is one substream, and substreams whose string
// arguments differ only in case stay apart in SQL, although DuckDB matches
// names without regard to case.
func TestSubstreamSpellings(t *testing.T) {
	ts := startServer(t)
	if r := ts.admin("PUT", "/_/streams/eric/events", []byte(`{"factory": true}`)); r.code != 201 {
		t.Fatalf("declare the factory: %d %s", r.code, r.body)
	}
	for i, arg := range []string{"16", "0x10", "0X10", "0o20", "0b1_0000", "1_6", "16.", "1.6e1"} {
		wantID(t, "("+arg+")", ts.post("/eric/events("+arg+")", "n"), int64(i))
	}
	wantID(t, "account 0x1g", ts.post("/eric/events(0x1g)", "acct"), 0)
	wantID(t, "('A') first", ts.post("/eric/events('A')", "A0"), 0)
	wantID(t, "('a') first", ts.post("/eric/events('a')", "a0"), 0)
	wantID(t, "('A') second", ts.post(`/eric/events("A")`, "A1"), 1)
	wantID(t, "('Ab')", ts.post(`/eric/events('Ab')`, "Ab0"), 0)
	if got := listData(t, ts.admin("GET", "/eric/events(0x10).slice(6)", nil)); got != "6:n:16 7:n:16" {
		t.Errorf("(0x10).slice(6) = %s", got)
	}
	if got := listData(t, ts.admin("GET", "/eric/events('A')", nil)); got != "0:A0:'A' 1:A1:'A'" {
		t.Errorf("('A') = %s", got)
	}
	for _, stage := range []string{"tail", "flushed"} {
		if stage == "flushed" {
			if r := ts.admin("POST", "/_/flush", nil); r.code != 200 {
				t.Fatalf("flush: %d %s", r.code, r.body)
			}
		}
		for _, c := range []struct{ view, want string }{
			{`events('\x41')`, `[{"d":"A0"},{"d":"A1"}]`},
			{`events('a')`, `[{"d":"a0"}]`},
			{`events('\x41b')`, `[{"d":"Ab0"}]`},
			{`events(0x1g)`, `[{"d":"acct"}]`},
		} {
			if got := ts.sqlRows(`select decode(_data) as d from "eric"."` + c.view + `" order by _id`); got != c.want {
				t.Errorf("%s: %s = %s, want %s", stage, c.view, got, c.want)
			}
		}
		got := ts.sqlRows(`select _sub, count(*) as n from "eric"."events" group by _sub order by _sub`)
		if want := `[{"_sub":"'A'","n":2},{"_sub":"'Ab'","n":1},{"_sub":"'a'","n":1},{"_sub":"0x1g","n":1},{"_sub":"16","n":8}]`; got != want {
			t.Errorf("%s: union = %s, want %s", stage, got, want)
		}
	}
}
