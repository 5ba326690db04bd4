package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// clickJTD is the click type of the seed document (pipet-http.txt).
const clickJTD = `{
  "properties": {
    "url": { "type": "string" },
    "xpath": { "elements": {"type": "string" } }
  },
  "additionalProperties": true
}`

// seedClick is the body curl and fetch send in the seed's example.
const seedClick = `{"url": "https://pipet.io", "xpath": ["html", "body", "div", "a"]}`

// TestTypedEventsSeed follows the seed: PUT the click type, POST the exact
// seed body, read it back as an object, in every format, and through SQL.
func TestTypedEventsSeed(t *testing.T) {
	ts := startServer(t)
	r := ts.admin("PUT", "/user/stream:click", []byte(clickJTD), "Content-Type", "application/json")
	if r.code != 201 {
		t.Fatalf("PUT click: %d %s", r.code, r.body)
	}
	var stored map[string]any
	r.json(t, &stored)
	if stored["additionalProperties"] != true {
		t.Fatalf("PUT answer: %s", r.body)
	}
	if r = ts.admin("PUT", "/user/stream:click", []byte(clickJTD), "Content-Type", "application/json"); r.code != 200 {
		t.Fatalf("PUT click again: %d %s", r.code, r.body)
	}
	// An untyped event first, then the seed's typed one (curl: application/json;
	// fetch with a string body: text/plain), with an extra property.
	if r = ts.admin("POST", "/user/stream", []byte("Hello, world!"), "Content-Type", "text/plain"); r.code != 200 {
		t.Fatalf("untyped POST: %d %s", r.code, r.body)
	}
	if r = ts.admin("POST", "/user/stream:click", []byte(seedClick), "Content-Type", "application/json"); r.code != 200 || string(bytes.TrimSpace(r.body)) != "1" {
		t.Fatalf("seed POST: %d %s", r.code, r.body)
	}
	extra := `{"url":"https://a.example/?q=<x>","xpath":[],"ignored":{"deep":1}}`
	if r = ts.admin("POST", "/user/stream:click", []byte(extra), "Content-Type", "text/plain;charset=UTF-8"); r.code != 200 {
		t.Fatalf("fetch-style POST: %d %s", r.code, r.body)
	}

	check := func(when string, n int) {
		t.Helper()
		r := ts.admin("GET", "/user/stream[1]", nil)
		var ev struct {
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		r.json(t, &ev)
		want := map[string]any{"url": "https://pipet.io", "xpath": []any{"html", "body", "div", "a"}}
		if r.code != 200 || ev.Event != "click" || !jsonEqual(ev.Data, want) {
			t.Fatalf("%s: GET [1]: %d %s", when, r.code, r.body)
		}
		r = ts.admin("GET", "/user/stream", nil)
		var evs []map[string]any
		r.json(t, &evs)
		if len(evs) != n || evs[0]["data"] != "Hello, world!" ||
			!jsonEqual(evs[2]["data"], map[string]any{"url": "https://a.example/?q=<x>", "xpath": []any{}}) {
			t.Fatalf("%s: listing: %s", when, r.body)
		}
		r = ts.admin("GET", "/user/stream", nil, "Accept", "text/csv")
		rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil || len(rows) != n+1 || rows[2][3] != `{"url":"https://pipet.io","xpath":["html","body","div","a"]}` {
			t.Fatalf("%s: CSV: %v %q", when, err, r.body)
		}
		r = ts.admin("GET", "/user/stream", nil, "Accept", "application/vnd.apache.arrow.stream")
		rd, err := ipc.NewReader(bytes.NewReader(r.body), ipc.WithAllocator(memory.DefaultAllocator))
		if err != nil {
			t.Fatalf("%s: arrow: %v", when, err)
		}
		if s := rd.Schema(); len(s.FieldIndices("url")) != 1 || len(s.FieldIndices("xpath")) != 1 {
			t.Fatalf("%s: arrow schema %s", when, s)
		}
		rd.Release()
		r = ts.admin("POST", "/sql", []byte(`select _id, url, xpath[2] as x, _data is null as typed from "user"."stream" where _event = 'click' order by _id`))
		var sqlRows []map[string]any
		r.json(t, &sqlRows)
		if r.code != 200 || len(sqlRows) != n-1 || sqlRows[0]["url"] != "https://pipet.io" || sqlRows[0]["x"] != "body" || sqlRows[0]["typed"] != true {
			t.Fatalf("%s: SQL: %d %s", when, r.code, r.body)
		}
	}
	check("buffered", 3)
	if err := ts.eng.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("flushed", 3)

	// Types survive a restart, and typed rows still in the WAL come back
	// typed.
	if r = ts.admin("POST", "/user/stream:click", []byte(seedClick), "Content-Type", "application/json"); r.code != 200 {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	dir := ts.dir
	ts.stop()
	ts = startServerAt(t, dir)
	check("restarted", 4)
	if r = ts.admin("GET", "/user/stream:click.json", nil); r.code != 200 || !jsonEqualText(t, r.body, clickJTD) ||
		bytes.Count(r.body, []byte("\n")) != 1 || bytes.Contains(r.body, []byte("  ")) {
		t.Fatalf(".json after restart, want it compacted as before: %d %s", r.code, r.body)
	}
	r = ts.admin("GET", "/user/stream[3]", nil)
	if !strings.Contains(string(r.body), `"data":{"url":"https://pipet.io","xpath":["html","body","div","a"]}`) {
		t.Fatalf("[3] after restart: %s", r.body)
	}
}

func TestTypedEventsErrors(t *testing.T) {
	ts := startServer(t)
	put := func(path, body string) response {
		t.Helper()
		return ts.admin("PUT", path, []byte(body), "Content-Type", "application/json")
	}
	if r := put("/user/stream:click", clickJTD); r.code != 201 {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	for _, c := range []struct {
		name string
		r    response
		code int
		want string
	}{
		{"not a string in xpath", ts.admin("POST", "/user/stream:click", []byte(`{"url":"u","xpath":["a",2]}`), "Content-Type", "application/json"), 400, `"/xpath/1"`},
		{"missing property", ts.admin("POST", "/user/stream:click", []byte(`{"url":"u"}`), "Content-Type", "application/json"), 400, "xpath"},
		{"not JSON", ts.admin("POST", "/user/stream:click", []byte(`Hello, world!`), "Content-Type", "text/plain"), 400, "not JSON"},
		{"not UTF-8", ts.admin("POST", "/user/stream:click", []byte("{\"url\":\"caf\xe9\",\"xpath\":[]}"), "Content-Type", "application/json"), 400, "not valid UTF-8 (at byte 11)"},
		{"CSV row not of the type", ts.admin("POST", "/user/stream:click", []byte("url,xpath\nhttps://x,[]\nhttps://y,[1]\n"), "Content-Type", "text/csv"), 400, "/xpath"},
		{"bulk with one bad part", ts.admin("POST", "/user/stream", []byte(
			"--b\r\nEvent-Type: click\r\nContent-Type: application/json\r\n\r\n"+seedClick+"\r\n"+
				"--b\r\nEvent-Type: click\r\nContent-Type: application/json\r\n\r\n{\"url\":1,\"xpath\":[]}\r\n--b--\r\n"),
			"Content-Type", "multipart/mixed; boundary=b"), 400, "event 1"},
		{"int64", put("/user/stream:t2", `{"properties": {"id": {"type": "int64"}}}`), 400, "int8, uint8, int16, uint16, int32 and uint32"},
		{"root not properties", put("/user/stream:t3", `{"type": "string"}`), 400, "properties form"},
		{"underscore property", put("/user/stream:t4", `{"properties": {"_id": {"type": "string"}}}`), 400, `"_id"`},
		{"bad JTD", put("/user/stream:t5", `{"properties": {"a": {"type": "string", "enum": ["x"]}}}`), 400, "/properties/a"},
		{"nested case clash", put("/user/stream:t6", `{"properties": {"s": {"properties": {"a": {"type": "string"}, "A": {"type": "int8"}}}}}`), 400, "differ only in case"},
		{"nested empty name", put("/user/stream:t7", `{"properties": {"s": {"properties": {"": {"type": "string"}}}}}`), 400, "needs a name"},
		{"conflicting property", put("/user/stream:view", `{"properties": {"url": {"type": "uint8"}}}`), 409, `"url"`},
		{"incompatible redefinition", put("/user/stream:click", `{"properties": {"url": {"elements": {"type": "string"}}}}`), 409, `"url"`},
		{"a property differing only in case", put("/user/stream:view", `{"properties": {"URL": {"type": "string"}}}`), 409, `"URL" differs only in case from the stream's column "url"`},
		{"two in one type", put("/user/stream:view", `{"properties": {"Abc": {"type": "string"}, "abc": {"type": "string"}}}`), 409, "differs only in case"},
		{"unknown type .json", ts.admin("GET", "/user/stream:nope.json", nil), 404, "nope"},
		{"no auth", ts.do("PUT", "/user/stream:x", []byte(clickJTD)), 401, "Bearer"},
	} {
		if c.r.code != c.code || !strings.Contains(c.r.errorText(t), c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, c.r.code, c.r.body, c.code, c.want)
		}
	}
	// Nothing of the failed requests was stored.
	if r := ts.admin("GET", "/user/stream", nil); string(bytes.TrimSpace(r.body)) != "[]" {
		t.Fatalf("stored after failures: %s", r.body)
	}
	// A compatible redefinition adds a property.
	if r := put("/user/stream:click", `{"properties": {"url": {"type": "string"}, "xpath": {"elements": {"type": "string"}}}, "optionalProperties": {"n": {"type": "uint32"}}}`); r.code != 200 {
		t.Fatalf("compatible redefinition: %d %s", r.code, r.body)
	}
	if r := ts.admin("POST", "/user/stream:click", []byte(`{"url":"u","xpath":[],"n":7}`), "Content-Type", "application/json"); r.code != 200 {
		t.Fatalf("POST with n: %d %s", r.code, r.body)
	}
	if r := ts.admin("GET", "/user/stream[0]", nil); !strings.Contains(string(r.body), `"data":{"url":"u","xpath":[],"n":7}`) {
		t.Fatalf("[0]: %s", r.body)
	}
	// A topic takes no event types.
	ts.createDemo("demo/events")
	if r := put("/demo/events:click", clickJTD); r.code != 409 || !strings.Contains(r.errorText(t), "topic") {
		t.Fatalf("PUT on a topic: %d %s", r.code, r.body)
	}
}

func TestTypedEventsTypeScript(t *testing.T) {
	ts := startServer(t)
	def := `{"definitions": {"point": {"properties": {"x": {"type": "float64"}, "y": {"type": "int32"}}}},
	  "properties": {"url": {"type": "string"}, "at": {"type": "timestamp", "nullable": true},
	    "kind": {"enum": ["a", "b"]}, "where": {"ref": "point"}, "tags": {"values": {"type": "boolean"}},
	    "shape": {"discriminator": "t", "mapping": {"sq": {"properties": {"side": {"type": "uint8"}}}}}},
	  "optionalProperties": {"any": {}}}`
	if r := ts.admin("PUT", "/user/stream:page-view", []byte(def)); r.code != 201 {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	r := ts.admin("GET", "/user/stream:page-view.ts", nil)
	want := `export interface PageView { at: string | null; kind: "a" | "b"; shape: { t: "sq"; side: number }; tags: { [key: string]: boolean }; url: string; where: Point; any?: unknown }

export interface Point { x: number; y: number }
`
	if r.code != 200 || string(r.body) != want {
		t.Fatalf(".ts: %d\n%s\nwant\n%s", r.code, r.body, want)
	}
	r = ts.admin("GET", "/user/stream:page-view.json", nil)
	if r.code != 200 || !jsonEqualText(t, r.body, def) {
		t.Fatalf(".json: %d %s", r.code, r.body)
	}
	body := `{"url":"u","at":"2024-02-29T23:59:60.1234Z","kind":"b","where":{"x":1.5,"y":-2},"tags":{"z":true,"a":false},
	  "shape":{"t":"sq","side":3},"any":[1,{"k":null}]}`
	if r = ts.admin("POST", "/user/stream:page-view", []byte(body), "Content-Type", "application/json"); r.code != 200 {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	for _, when := range []string{"buffered", "flushed"} {
		r = ts.admin("GET", "/user/stream[0]", nil)
		var ev struct {
			Data map[string]any `json:"data"`
		}
		r.json(t, &ev)
		want := map[string]any{"url": "u", "at": "2024-03-01T00:00:00.123Z", "kind": "b", "where": map[string]any{"x": 1.5, "y": -2.0},
			"tags": map[string]any{"a": false, "z": true}, "shape": map[string]any{"t": "sq", "side": 3.0}, "any": []any{1.0, map[string]any{"k": nil}}}
		if !jsonEqual(ev.Data, want) {
			t.Fatalf("%s: %s", when, r.body)
		}
		if err := ts.eng.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r = ts.admin("POST", "/sql", []byte(`select "where".x as x, kind, tags['z'] as z, shape->>'t' as t from "user"."stream"`))
	var rows []map[string]any
	r.json(t, &rows)
	if r.code != 200 || len(rows) != 1 || rows[0]["x"] != 1.5 || rows[0]["kind"] != "b" || rows[0]["z"] != true || rows[0]["t"] != "sq" {
		t.Fatalf("SQL: %d %s", r.code, r.body)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func jsonEqualText(t *testing.T, a []byte, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %s", a)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	return jsonEqual(x, y)
}

// TestTypedTextEvents: CSV rows and forms of a type with a definition are
// read as that type says (numbers, booleans, lists as JSON) and stored as
// typed rows; a value that does not convert is a 400 naming it.
func TestTypedTextEvents(t *testing.T) {
	ts := startServer(t)
	const visit = `{"properties": {"page": {"type": "string"}, "ms": {"type": "uint32"}, "ok": {"type": "boolean"}},
		"optionalProperties": {"tags": {"elements": {"type": "string"}}}}`
	if r := ts.admin("PUT", "/user/site:visit", []byte(visit)); r.code != 201 {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	csv := "page,ms,ok,tags\r\n/a,12,true,\"[\"\"x\"\",\"\"y\"\"]\"\r\n/b,7,FALSE,\r\n"
	r := ts.admin("POST", "/user/site:visit", []byte(csv), "Content-Type", "text/csv")
	if r.code != 200 || string(bytes.TrimSpace(r.body)) != "[0,1]" {
		t.Fatalf("CSV: %d %s, want [0,1]", r.code, r.body)
	}
	r = ts.admin("POST", "/user/site:visit", []byte("page=%2Fc&ms=3&ok=true&tags=p&tags=q"), "Content-Type", "application/x-www-form-urlencoded")
	if r.code != 200 || string(bytes.TrimSpace(r.body)) != "2" {
		t.Fatalf("urlencoded form: %d %s, want 2", r.code, r.body)
	}
	r = ts.admin("POST", "/user/site:visit", []byte("page=50%&ms=3&ok=true"), "Content-Type", "application/x-www-form-urlencoded")
	if r.code != 400 || !strings.Contains(r.errorText(t), "percent") {
		t.Fatalf("typed urlencoded form with a bare %%: %d %s, want 400", r.code, r.body)
	}
	form := "--f\r\nContent-Disposition: form-data; name=\"page\"\r\n\r\n/d\r\n" +
		"--f\r\nContent-Disposition: form-data; name=\"ms\"\r\n\r\n4\r\n" +
		"--f\r\nContent-Disposition: form-data; name=\"ok\"\r\n\r\nfalse\r\n--f--\r\n"
	r = ts.admin("POST", "/user/site:visit", []byte(form), "Content-Type", "multipart/form-data; boundary=f")
	if r.code != 200 || string(bytes.TrimSpace(r.body)) != "3" {
		t.Fatalf("form-data: %d %s, want 3", r.code, r.body)
	}
	r = ts.admin("POST", "/user/site:visit", []byte("page=%2Fe&ms=5&ok=true&tags=solo"), "Content-Type", "application/x-www-form-urlencoded")
	if r.code != 200 || string(bytes.TrimSpace(r.body)) != "4" {
		t.Fatalf("urlencoded form with a list field given once: %d %s, want 4", r.code, r.body)
	}
	bulk := "--b\r\nContent-Type: multipart/form-data; boundary=f\r\n\r\n" + form + "\r\n" +
		"--b\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\npage=%2Fg&ms=6&ok=true\r\n--b--\r\n"
	r = ts.admin("POST", "/user/site:visit", []byte(bulk), "Content-Type", "multipart/mixed; boundary=b")
	if r.code != 200 || string(bytes.TrimSpace(r.body)) != "[5,6]" {
		t.Fatalf("bulk of forms: %d %s, want [5,6]", r.code, r.body)
	}
	r = ts.admin("POST", "/user/site:visit", []byte(strings.Replace(bulk, "ms=6", "ms=x", 1)), "Content-Type", "multipart/mixed; boundary=b")
	if r.code != 400 || !strings.Contains(r.errorText(t), "/ms") {
		t.Fatalf("bulk with a bad form: %d %s, want 400 naming /ms", r.code, r.body)
	}
	r = ts.admin("POST", "/user/site:visit", []byte("page,ms,ok\n/e,-1,true\n"), "Content-Type", "text/csv")
	if r.code != 400 || !strings.Contains(r.errorText(t), "/ms") {
		t.Fatalf("negative uint32: %d %s, want 400 naming /ms", r.code, r.body)
	}
	r = ts.admin("GET", "/user/site", nil)
	var evs []struct {
		Data map[string]any `json:"data"`
	}
	r.json(t, &evs)
	got, _ := json.Marshal(evs)
	const want = `[{"data":{"ms":12,"ok":true,"page":"/a","tags":["x","y"]}},{"data":{"ms":7,"ok":false,"page":"/b"}},` +
		`{"data":{"ms":3,"ok":true,"page":"/c","tags":["p","q"]}},{"data":{"ms":4,"ok":false,"page":"/d"}},` +
		`{"data":{"ms":5,"ok":true,"page":"/e","tags":["solo"]}},{"data":{"ms":4,"ok":false,"page":"/d"}},` +
		`{"data":{"ms":6,"ok":true,"page":"/g"}}]`
	if string(got) != want {
		t.Fatalf("stored:\n%s\nwant\n%s", got, want)
	}
}

// TestTypeRedefinitionKeepsEvents: events read back as they were written
// whatever their type became since: a property a redefinition dropped is
// still shown, one it added is not made up (null) for older events, before
// and after a flush and a restart. A required property that accepts null
// still reads back as null.
func TestTypeRedefinitionKeepsEvents(t *testing.T) {
	ts := startServer(t)
	put := func(jtd string, want int) {
		t.Helper()
		if r := ts.admin("PUT", "/user/redef:t", []byte(jtd)); r.code != want {
			t.Fatalf("PUT %s: %d %s, want %d", jtd, r.code, r.body, want)
		}
	}
	post := func(body string) {
		t.Helper()
		if r := ts.admin("POST", "/user/redef:t", []byte(body), "Content-Type", "application/json"); r.code != 200 {
			t.Fatalf("POST %s: %d %s", body, r.code, r.body)
		}
	}
	put(`{"properties":{"a":{"type":"string"},"b":{"type":"string"}}}`, 201)
	post(`{"a":"1","b":"2"}`)
	put(`{"properties":{"a":{"type":"string"}}}`, 200)
	put(`{"properties":{"a":{"type":"string"},"c":{"type":"string"},"n":{"type":"string","nullable":true}}}`, 200)
	post(`{"a":"3","c":"4","n":null}`)
	want := []string{`{"a":"1","b":"2"}`, `{"a":"3","c":"4","n":null}`}
	check := func(when string) {
		t.Helper()
		r := ts.admin("GET", "/user/redef", nil)
		var evs []struct {
			Data json.RawMessage `json:"data"`
		}
		r.json(t, &evs)
		if len(evs) != len(want) {
			t.Fatalf("%s: %s", when, r.body)
		}
		for i, ev := range evs {
			if !jsonEqualText(t, ev.Data, want[i]) {
				t.Errorf("%s: event %d reads %s, want %s as it was written", when, i, ev.Data, want[i])
			}
		}
	}
	check("buffered")
	if err := ts.eng.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("flushed")
	dir := ts.dir
	ts.stop()
	ts = startServerAt(t, dir)
	check("restarted")
	// Putting the same definition again is still idempotent after the
	// restart, and keeps the past.
	put(`{"properties":{"a":{"type":"string"},"c":{"type":"string"},"n":{"type":"string","nullable":true}}}`, 200)
	check("the same definition again")
}
