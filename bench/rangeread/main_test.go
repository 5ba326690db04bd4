package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestTarget(t *testing.T) {
	c := config{base: "http://127.0.0.1:1", stream: "a/s", span: 1000, form: "query"}
	if got := c.target(5); got != "http://127.0.0.1:1/a/s?from=5&to=1005" {
		t.Fatal(got)
	}
	c.form = "slice"
	if got := c.target(5); got != "http://127.0.0.1:1/a/s.slice(5,1005)" {
		t.Fatal(got)
	}
}

func events(from, n int64) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"id":%d,"timestamp":1,"event":"e","data":"{\"n\":%d}"}`, from+int64(i), from+int64(i))
	}
	return "[" + strings.Join(parts, ",") + "]\n"
}

func TestCheck(t *testing.T) {
	f := func(code int, body string, x, span int64, want string) {
		t.Helper()
		var resp fasthttp.Response
		resp.SetStatusCode(code)
		resp.SetBodyString(body)
		if got := check(&resp, x, span); got != want {
			t.Fatalf("check(%d, %.60q, %d, %d) = %q, want %q", code, body, x, span, got, want)
		}
	}
	f(200, events(7, 3), 7, 3, "")
	f(200, events(7, 1), 7, 1, "")
	f(200, events(8, 3), 7, 3, "first_id")
	f(200, events(7, 2), 7, 3, "rows")
	f(200, "[]", 7, 3, "rows")
	f(404, `{"error":"no"}`, 7, 3, "404")
}

func TestConfigCheck(t *testing.T) {
	good := config{base: "http://127.0.0.1:8080/", stream: "a/s", form: "slice", events: 10, span: 10, conns: 1,
		duration: 1, timeout: 1}
	if err := good.check(); err != nil || good.base != "http://127.0.0.1:8080" {
		t.Fatalf("%v %q", err, good.base)
	}
	for _, bad := range []func(*config){
		func(c *config) { c.base = "http://10.0.0.1:80" },
		func(c *config) { c.base = "http://127.0.0.1" },
		func(c *config) { c.stream = "nope" },
		func(c *config) { c.form = "sql" },
		func(c *config) { c.events = 9 },
		func(c *config) { c.conns = 0 },
		func(c *config) { c.bstream, c.bevents = "nope", 10 },
		func(c *config) { c.bstream, c.bevents = "a/t", 9 },
	} {
		c := good
		bad(&c)
		if err := c.check(); err == nil {
			t.Fatalf("accepted %+v", c)
		}
	}
}

// TestStreamsInTurn: with a baseline, the baseline comes first and keeps
// the stream's span and form with its own name, label and size.
func TestStreamsInTurn(t *testing.T) {
	c := config{stream: "a/big", label: "big", events: 100, span: 10, form: "slice"}
	if got := c.streams(); len(got) != 1 || got[0].stream != "a/big" {
		t.Fatalf("no baseline: %+v", got)
	}
	c.bstream, c.blabel, c.bevents = "a/small", "small", 20
	got := c.streams()
	if len(got) != 2 || got[0].stream != "a/small" || got[0].label != "small" || got[0].events != 20 ||
		got[0].span != 10 || got[0].form != "slice" || got[1].stream != "a/big" || got[1].events != 100 {
		t.Fatalf("baseline: %+v", got)
	}
}
