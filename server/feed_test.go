package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ducktail/ducktail/engine"
)

// withFeedLimits shrinks the SSE ring and backlog for a test.
func withFeedLimits(l feedLimits) serverOption {
	return func(o *Options, _ *engine.Options) { o.feedLimits = l }
}

// postEvent appends one event, failing the test otherwise.
func (ts *testServer) postEvent(path, ct, body string, hdr ...string) {
	ts.t.Helper()
	r := ts.admin("POST", path, []byte(body), append([]string{"Content-Type", ct}, hdr...)...)
	if r.code != 200 {
		ts.t.Fatalf("POST %s: %d %s", path, r.code, r.body)
	}
}

// postBulk appends n untyped events of size bytes in one multipart/mixed push.
func (ts *testServer) postBulk(path string, n, size int) {
	ts.t.Helper()
	part := "--b\r\n\r\n" + strings.Repeat("y", size) + "\r\n"
	r := ts.admin("POST", path, []byte(strings.Repeat(part, n)+"--b--\r\n"), "Content-Type", "multipart/mixed; boundary=b")
	if r.code != 200 {
		ts.t.Fatalf("bulk POST %s: %d %s", path, r.code, r.body)
	}
}

// listing returns the stream's events as a listing renders them, compacted,
// by id.
func (ts *testServer) listing(path string) map[string]string {
	ts.t.Helper()
	r := ts.admin("GET", path+"?limit=100000", nil)
	var evs []json.RawMessage
	r.json(ts.t, &evs)
	out := map[string]string{}
	for _, ev := range evs {
		var head struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(ev, &head); err != nil {
			ts.t.Fatal(err)
		}
		var b bytes.Buffer
		json.Compact(&b, ev)
		out[strconv.FormatInt(head.ID, 10)] = b.String()
	}
	return out
}

// TestSSEFanOutSelectors: 200 subscribers with different selectors on one
// stream each receive exactly their events, in order, with the frames a
// listing renders; a type defined while they listen is rendered typed.
func TestSSEFanOutSelectors(t *testing.T) {
	ts := startServer(t)
	const t0 = 1_700_000_000_000
	type event struct {
		id, ts int64
		typ    string
	}
	var all []event
	post := func(typ string) {
		t.Helper()
		id := int64(len(all))
		stamp := t0 + 10*id
		path, ct, body := "/user/stream", "text/plain", "body "+strconv.FormatInt(id, 10)
		if typ != "text/plain" {
			path, ct, body = "/user/stream:"+typ, "application/json", fmt.Sprintf(`{"n":%d}`, id)
		}
		ts.postEvent(path, ct, body, "Timestamp", strconv.FormatInt(stamp, 10))
		all = append(all, event{id, stamp, typ})
	}
	for range 5 {
		post("text/plain")
	}
	type sel struct {
		query string
		from  int64 // first id sent
		match func(e event) bool
		data  bool
	}
	anyEvent := func(event) bool { return true }
	sels := []sel{
		{"", 5, anyEvent, false},
		{"?data=true", 5, anyEvent, true},
		{"?eventType=a", 5, func(e event) bool { return e.typ == "a" }, false},
		{"?eventType=b&data=true", 5, func(e event) bool { return e.typ == "b" }, true},
		{"?eventType=a&eventType=typed&data=true", 5, func(e event) bool { return e.typ == "a" || e.typ == "typed" }, true},
		{fmt.Sprintf("?since=%d&until=%d", t0+100, t0+300), 5, func(e event) bool { return e.ts >= t0+100 && e.ts < t0+300 }, false},
		{"?from=2&data=true", 2, anyEvent, true},
		{"?to=20", 5, func(e event) bool { return e.id < 20 }, false},
		{"/.eventType('b')", 5, func(e event) bool { return e.typ == "b" }, false},
		{"?from=0&eventType=text/plain", 0, func(e event) bool { return e.typ == "text/plain" }, false},
	}
	type client struct {
		c   *sseClient
		sel sel
	}
	var clients []client
	for i := range 200 {
		s := sels[i%len(sels)]
		path := "/user/stream" + s.query
		if strings.HasPrefix(s.query, "/") {
			path = "/user/stream" + s.query[1:]
		}
		clients = append(clients, client{ts.subscribe(path), s})
	}
	types := []string{"a", "b", "text/plain", "typed"}
	for i := range 30 {
		post(types[i%3])
	}
	// A type defined while subscribers listen grows the stored schema.
	if r := ts.admin("PUT", "/user/stream:typed", []byte(`{"properties":{"n":{"type":"int32"}}}`), "Content-Type", "application/json"); r.code != 200 && r.code != 201 {
		t.Fatalf("PUT type: %d %s", r.code, r.body)
	}
	for i := range 20 {
		post(types[i%4])
	}
	want := ts.listing("/user/stream")
	if !strings.Contains(want["38"], `"data":{"n":38}`) {
		t.Fatalf("event 38 is not typed in the listing: %s", want["38"])
	}
	for k, cl := range clients {
		for _, e := range all {
			if e.id < cl.sel.from || !cl.sel.match(e) {
				continue
			}
			ev := cl.c.next()
			id := strconv.FormatInt(e.id, 10)
			if ev["id"] != id || ev["event"] != e.typ {
				t.Fatalf("subscriber %d (%q): got %v, want id %d event %s", k, cl.sel.query, ev, e.id, e.typ)
			}
			if !cl.sel.data {
				if _, ok := ev["data"]; ok {
					t.Fatalf("subscriber %d (%q): data without data=true: %v", k, cl.sel.query, ev)
				}
				continue
			}
			if ev["data"] != want[id] {
				t.Fatalf("subscriber %d (%q): event %s data\n%s\nwant, as listed,\n%s", k, cl.sel.query, id, ev["data"], want[id])
			}
		}
	}
}

// TestSSEResumeOlderThanRing: a subscriber resuming from before the ring
// gets every event once, in order, then live ones; subscribers that fall
// off a small ring during bursts catch up without loss or repetition.
func TestSSEResumeOlderThanRing(t *testing.T) {
	ts := startServer(t, withFeedLimits(feedLimits{events: 8}))
	ts.postEvent("/user/stream", "text/plain", "first")
	live := ts.subscribe("/user/stream?data=true") // starts the feed
	for range 5 {
		ts.postBulk("/user/stream", 10, 10)
	}
	resumed := ts.subscribe("/user/stream", "Last-Event-ID", "3")
	for range 10 {
		ts.postBulk("/user/stream", 100, 10) // bursts longer than the ring
	}
	ts.postEvent("/user/stream", "text/plain", "last")
	const last = 1 + 50 + 1000 // the id of "last"
	for id := 4; id <= last; id++ {
		if ev := resumed.next(); ev["id"] != strconv.Itoa(id) {
			t.Fatalf("resumed: %v, want id %d", ev, id)
		}
	}
	for id := 1; id <= last; id++ {
		if ev := live.next(); ev["id"] != strconv.Itoa(id) || ev["data"] == "" {
			t.Fatalf("live: %v, want id %d with data", ev, id)
		}
	}
}

// TestSSEResumeFarBehind: Last-Event-ID resumes from any distance behind,
// many times the backlog that drops a live subscriber, reading segments and
// the tail in chunks, and then goes live; a ranged resume that far behind
// ends at its range's end.
func TestSSEResumeFarBehind(t *testing.T) {
	ts := startServer(t, withFeedLimits(feedLimits{events: 8, backlog: 50, chunk: 64}))
	ts.postEvent("/user/stream", "text/plain", "first")
	for i := range 10 {
		ts.postBulk("/user/stream", 100, 10)
		if i == 4 {
			if err := ts.eng.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	resumed := ts.subscribe("/user/stream?data=true", "Last-Event-ID", "3")
	ranged := ts.subscribe("/user/stream?to=700", "Last-Event-ID", "3")
	ts.postEvent("/user/stream", "text/plain", "last")
	const last = 1 + 1000 // the id of "last"
	for id := 4; id <= last; id++ {
		if ev := resumed.next(); ev["id"] != strconv.Itoa(id) || ev["data"] == "" {
			t.Fatalf("resumed: %v, want id %d with data", ev, id)
		}
	}
	got := ranged.rest() // the events, then the bare id line that ends it
	if n := len(got) - 1; n != 700-4 || got[0]["id"] != "4" || got[n-1]["id"] != "699" || got[n]["event"] != "" {
		t.Fatalf("ranged resume sent %d blocks (first %v, last %v), want ids 4 to 699 and an end", len(got), got[0], got[len(got)-1])
	}
	// The resumed subscriber is live now: a later event reaches it.
	ts.postEvent("/user/stream", "text/plain", "later")
	if ev := resumed.next(); ev["id"] != strconv.Itoa(last+1) {
		t.Fatalf("resumed, live: %v, want id %d", ev, last+1)
	}
}

// rawSubscribe opens a subscription on a bare connection that the test
// reads only when it wants to.
func (ts *testServer) rawSubscribe(path string) net.Conn {
	ts.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: text/event-stream\r\nAuthorization: Bearer %s\r\n\r\n", path, testAdminKey)
	return conn
}

// TestSSEStalledSubscriberDropped: a subscriber that never reads does not
// delay the others, and once past the backlog it is dropped with a comment
// saying how to resume.
func TestSSEStalledSubscriberDropped(t *testing.T) {
	ts := startServer(t, withFeedLimits(feedLimits{backlog: 2000}))
	ts.postEvent("/user/stream", "text/plain", "x")
	stalled := ts.rawSubscribe("/user/stream?data=true")
	reader := ts.subscribe("/user/stream?data=true")
	// 20,000 events of 1 KiB: many times what the stalled connection's
	// socket buffers hold.
	const bulks, per = 200, 100
	done := make(chan struct{})
	go func() {
		defer close(done)
		for id := 1; id <= bulks*per; id++ {
			if ev := reader.next(); ev["id"] != strconv.Itoa(id) {
				t.Errorf("reader: %v, want id %d", ev, id)
				return
			}
		}
	}()
	for range bulks {
		ts.postBulk("/user/stream", per, 1000)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("a reading subscriber was held up by a stalled one")
	}
	// The stalled subscriber, read at last, ends with the drop comment.
	stalled.SetReadDeadline(time.Now().Add(30 * time.Second))
	body, err := io.ReadAll(bufio.NewReader(stalled))
	if err != nil {
		t.Fatalf("reading the stalled subscription: %v (%d bytes)", err, len(body))
	}
	tail := string(body[max(0, len(body)-200):])
	if !strings.Contains(tail, ": dropped: this subscriber is more than 2000 events behind; resume with Last-Event-ID") {
		t.Fatalf("stalled subscription ended without the drop comment: ...%q", tail)
	}
}

// TestSSEFeedsEnd: a feed runs while its stream has subscribers, one per
// (sub)stream, ends when the last leaves, and all end on Shutdown.
func TestSSEFeedsEnd(t *testing.T) {
	ts := startServer(t)
	ts.postEvent("/user/a", "text/plain", "x")
	ts.postEvent("/user/b", "text/plain", "x")
	srv := ts.srv
	running := func() int64 { return srv.feeds.running.Load() }
	waitRunning := func(want int64, poke func()) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for running() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d feeds running, want %d", running(), want)
			}
			poke()
		}
	}
	a1, a2 := ts.subscribe("/user/a"), ts.subscribe("/user/a?data=true")
	b := ts.subscribe("/user/b")
	waitRunning(2, func() {})
	// Subscribers that leave are let go at once, without an event or a
	// keep-alive to write (clientOf).
	a1.resp.Body.Close()
	a2.resp.Body.Close()
	waitRunning(1, func() { time.Sleep(time.Millisecond) })
	ts.postEvent("/user/b", "text/plain", "y")
	if ev := b.next(); ev["id"] != "1" {
		t.Fatalf("b: %v", ev)
	}
	a3 := ts.subscribe("/user/a")
	waitRunning(2, func() {})
	ts.postEvent("/user/a", "text/plain", "z")
	if ev := a3.next(); ev["event"] != "text/plain" {
		t.Fatalf("a3: %v", ev)
	}
	ts.stop()
	if n := running(); n != 0 {
		t.Fatalf("%d feeds still running after Shutdown", n)
	}
	// Their connections end.
	for _, c := range []*sseClient{a3, b} {
		deadline := time.After(10 * time.Second)
	drain:
		for {
			select {
			case _, ok := <-c.events:
				if !ok {
					break drain
				}
			case <-deadline:
				t.Fatal("a subscription outlived Shutdown")
			}
		}
	}
}
