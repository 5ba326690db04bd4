package server

import (
	"bytes"
	"strings"
	"testing"
)

// TestTopicJSONRows: JSON objects POSTed to a topic the Pipet way are
// checked against its schema (SPEC 2), stored as its columns next to rows
// ingested as Arrow, and read back as objects.
func TestTopicJSONRows(t *testing.T) {
	ts := startServer(t)
	ts.admin("POST", "/_/topics", []byte(`{"name":"shop/orders","fields":[
		{"name":"sku","type":"utf8","nullable":false},{"name":"qty","type":"int32","nullable":true},
		{"name":"tags","type":"list<utf8>","nullable":true}]}`))
	js := []string{"Content-Type", "application/json"}
	for _, c := range []struct {
		name, path, body string
		code             int
		want             string // the body, or a part of the error
	}{
		{"one object", "/shop/orders", `{"sku": "a-1", "qty": 2, "tags": ["x"]}`, 200, "0"},
		{"an array, typed", "/shop/orders:restock", `[{"sku": "b"}, {"sku": "c", "qty": null}]`, 200, "[1,2]"},
		{"unknown field", "/shop/orders", `{"sku": "d", "colour": "red"}`, 400, `"colour"`},
		{"missing required field", "/shop/orders", `[{"sku": "e"}, {"qty": 1}]`, 400, `row 1: field "sku"`},
		{"wrong type", "/shop/orders", `{"sku": "f", "qty": "many"}`, 400, `row 0: field "qty": "many" is not a valid int32`},
		{"out of range", "/shop/orders", `{"sku": "f", "qty": 3000000000}`, 400, `row 0: field "qty": 3000000000 is not a valid int32`},
		{"not an object", "/shop/orders", `42`, 400, "JSON object"},
		{"empty array", "/shop/orders", `[]`, 400, "empty"},
		{"bad JSON", "/shop/orders", `[{"sku": "g"`, 400, "JSON"},
		{"forced timestamp", "/shop/orders?timestamp=5", `{"sku": "h"}`, 400, "timestamp"},
	} {
		r := ts.admin("POST", c.path, []byte(c.body), js...)
		got := string(bytes.TrimSpace(r.body))
		if r.code != c.code || (c.code == 200 && got != c.want) || (c.code != 200 && !strings.Contains(r.errorText(t), c.want)) {
			t.Errorf("%s: %d %s, want %d %q", c.name, r.code, got, c.code, c.want)
		}
	}
	// Rows are capped as bulk pushes are: 10,000 empty objects fit in the
	// 100 KiB data limit, 10,001 are one too many.
	ts.admin("POST", "/_/topics", []byte(`{"name":"shop/notes","fields":[{"name":"n","type":"utf8","nullable":true}]}`))
	rows := func(n int) []byte { return []byte("[" + strings.Repeat("{},", n-1) + "{}]") }
	if r := ts.admin("POST", "/shop/notes", rows(maxBulkEvents), js...); r.code != 200 {
		t.Errorf("%d rows: %d %.200s", maxBulkEvents, r.code, r.body)
	}
	if r := ts.admin("POST", "/shop/notes", rows(maxBulkEvents+1), js...); r.code != 413 || !strings.Contains(r.errorText(t), "limit of 10000") {
		t.Errorf("%d rows: %d %.200s, want 413", maxBulkEvents+1, r.code, r.body)
	}
	if r := ts.admin("POST", "/shop/orders", []byte("sku\nz\n"), "Content-Type", "text/csv"); r.code != 415 {
		t.Errorf("CSV into a topic: %d %s, want 415", r.code, r.body)
	}
	r := ts.admin("GET", "/shop/orders", nil)
	const want = `[{"id":0,"timestamp":`
	if r.code != 200 || !strings.HasPrefix(string(r.body), want) ||
		!strings.Contains(string(r.body), `"event":"restock","data":{"sku":"c","qty":null,"tags":null}`) ||
		!strings.Contains(string(r.body), `"event":"application/json","data":{"sku":"a-1","qty":2,"tags":["x"]}`) {
		t.Fatalf("GET: %d %s", r.code, r.body)
	}
	if got := ts.sqlRows(`select _id, _event, sku, qty from shop.orders order by _id`); got !=
		`[{"_event":"application/json","_id":0,"qty":2,"sku":"a-1"},{"_event":"restock","_id":1,"qty":null,"sku":"b"},{"_event":"restock","_id":2,"qty":null,"sku":"c"}]` {
		t.Fatalf("SQL: %s", got)
	}
}
