package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ducktail/ducktail/engine"
)

// sseClient reads server-sent events into a channel, one per blank-line
// separated block.
type sseClient struct {
	t      *testing.T
	events chan map[string]string
	resp   *http.Response
}

func (ts *testServer) subscribe(path string, hdr ...string) *sseClient {
	ts.t.Helper()
	return subscribeURL(ts.t, http.DefaultClient, ts.url+path, hdr...)
}

// subscribeURL subscribes to url with client, as the admin.
func subscribeURL(t *testing.T, client *http.Client, url string, hdr ...string) *sseClient {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("subscribe %s: %d %v", url, resp.StatusCode, resp.Header)
	}
	c := &sseClient{t: t, events: make(chan map[string]string, 100), resp: resp}
	t.Cleanup(func() { resp.Body.Close() })
	go func() {
		sc := bufio.NewScanner(resp.Body)
		block := map[string]string{}
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if len(block) > 0 {
					c.events <- block
				}
				block = map[string]string{}
				continue
			}
			if k, v, ok := strings.Cut(line, ": "); ok && k != "" {
				block[k] = v
			}
		}
		close(c.events)
	}()
	return c
}

// next returns the next event that has an id, skipping retry hints and
// comments, failing after a deadline.
func (c *sseClient) next() map[string]string {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatal("subscription ended")
			}
			if ev["id"] != "" {
				return ev
			}
		case <-deadline:
			c.t.Fatal("no event within 10 s")
		}
	}
}

func TestSubscriptions(t *testing.T) {
	ts := startServer(t)
	post := func(path, ct, body string, hdr ...string) {
		t.Helper()
		r := ts.do("POST", path, []byte(body), append([]string{"Authorization", "Bearer " + testAdminKey, "Content-Type", ct}, hdr...)...)
		if r.code != 200 {
			t.Fatalf("POST %s: %d %s", path, r.code, r.body)
		}
	}
	post("/user/stream", "text/plain", "before")
	all := ts.subscribe("/user/stream")
	clicks := ts.subscribe("/user/stream?eventType=click&data=true")
	resumed := ts.subscribe("/user/stream", "Last-Event-ID", "0")
	post("/user/stream", "text/plain", "hello")
	post("/user/stream:click", "application/json", `{"x":1}`)

	// New events only, id and type, no data by default.
	for _, want := range []string{"1 text/plain", "2 click"} {
		ev := all.next()
		if got := ev["id"] + " " + ev["event"]; got != want || ev["data"] != "" {
			t.Fatalf("subscription: %v, want %s without data", ev, want)
		}
	}
	// Filtered, with data: the event as reads show it (an untyped event's
	// data is its body as a string).
	ev := clicks.next()
	var data map[string]any
	if err := json.Unmarshal([]byte(ev["data"]), &data); err != nil || ev["id"] != "2" || ev["event"] != "click" ||
		data["id"] != 2.0 || data["event"] != "click" || data["data"] != `{"x":1}` {
		t.Fatalf("click with data: %v (%v)", ev, err)
	}
	// Last-Event-ID: 0 resumes at 1.
	for _, want := range []string{"1", "2"} {
		if ev := resumed.next(); ev["id"] != want {
			t.Fatalf("resumed: %v, want id %s", ev, want)
		}
	}
	// Only an id the stream sent resumes it.
	for _, c := range []struct{ id, says string }{
		{"abc", "want the id of an event"}, {"-1", "want the id of an event"}, {"3", "past the stream's end: its last event is 2"},
	} {
		r := ts.do("GET", "/user/stream", nil, "Accept", "text/event-stream", "Authorization", "Bearer "+testAdminKey, "Last-Event-ID", c.id)
		if r.code != 400 || !strings.Contains(r.errorText(t), c.says) {
			t.Errorf("Last-Event-ID %s: %d %s, want 400 saying %q", c.id, r.code, r.body, c.says)
		}
	}
	// data is a boolean: anything else is a mistake worth saying.
	r := ts.do("GET", "/user/stream?data=yes", nil, "Accept", "text/event-stream", "Authorization", "Bearer "+testAdminKey)
	if r.code != 400 || !strings.Contains(r.errorText(t), "data=") {
		t.Fatalf("data=yes: %d %s, want 400 naming data", r.code, r.body)
	}
}

// TestStalledSubscribersDoNotSlowWriters: subscribers that never read their
// connection do not hold up appends; a reader that comes back gets every
// event since its last id.
func TestStalledSubscribersDoNotSlowWriters(t *testing.T) {
	ts := startServer(t)
	ts.do("POST", "/user/stream", []byte("x"), "Authorization", "Bearer "+testAdminKey)
	for i := 0; i < 20; i++ {
		ts.subscribe("/user/stream?data=true") // never read
	}
	done := make(chan error, 1)
	go func() {
		// 400 requests of 100 events with ~1 KiB bodies fill the stalled
		// subscribers' socket buffers many times over.
		body := "--b\r\n\r\n" + strings.Repeat("y", 1000) + "\r\n"
		bulk := strings.Repeat(body, 100) + "--b--\r\n"
		for i := 0; i < 400; i++ {
			r := ts.do("POST", "/user/stream", []byte(bulk), "Authorization", "Bearer "+testAdminKey,
				"Content-Type", "multipart/mixed; boundary=b")
			if r.code != 200 {
				done <- fmt.Errorf("bulk %d: %d %s", i, r.code, r.body)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("writers stalled behind subscribers that do not read")
	}
	late := ts.subscribe("/user/stream", "Last-Event-ID", "39990")
	for _, want := range []string{"39991", "39992"} {
		if ev := late.next(); ev["id"] != want {
			t.Fatalf("late reader: %v, want %s", ev, want)
		}
	}
}

// TestSSEOutlivesWriteTimeout: the server's write timeout bounds each write
// of a subscription, not the whole of it, which lasts as long as its client
// listens.
func TestSSEOutlivesWriteTimeout(t *testing.T) {
	ts := startServer(t, func(o *Options, _ *engine.Options) { o.writeTimeout = 200 * time.Millisecond })
	ts.postEvent("/user/long", "text/plain", "first")
	c := ts.subscribe("/user/long")
	for i := range 3 {
		time.Sleep(500 * time.Millisecond)
		ts.postEvent("/user/long", "text/plain", fmt.Sprint("later ", i))
		if ev := c.next(); ev["id"] != fmt.Sprint(i+1) {
			t.Fatalf("event %d: %v", i+1, ev)
		}
	}
}

// wantEnd fails unless the subscription ends, without another event, within
// a deadline.
func (c *sseClient) wantEnd() {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return
			}
			if ev["id"] != "" {
				c.t.Fatalf("an event where the subscription should have ended: %v", ev)
			}
		case <-deadline:
			c.t.Fatal("the subscription did not end within 10 s")
		}
	}
}

// rest returns the blocks with an id the subscription sends until it ends,
// failing if it has not ended within 10 s.
func (c *sseClient) rest() []map[string]string {
	c.t.Helper()
	var got []map[string]string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return got
			}
			if ev["id"] != "" {
				got = append(got, ev)
			}
		case <-deadline:
			c.t.Fatalf("the subscription did not end within 10 s; it sent %v", got)
		}
	}
}

// TestRangedSubscriptionsEnd: with to or until, a subscription is a read
// of its range (SPEC 4.2: only one without a range is live): it sends what
// there is, waits for the rest of the range if it is not complete yet, and
// ends when no later event can be in it, with an id line that moves an
// EventSource's lastEventId to the end. Resuming there answers 204, which
// stops an EventSource's reconnects.
func TestRangedSubscriptionsEnd(t *testing.T) {
	ts := startServer(t)
	for i, at := range []string{"1000", "2000", "3000"} {
		wantID(t, "event", ts.post("/user/ranged", "e"+at, "Timestamp", at), int64(i))
	}
	ids := func(evs []map[string]string) string {
		var b strings.Builder
		for _, ev := range evs {
			fmt.Fprintf(&b, "%s:%s ", ev["id"], ev["event"])
		}
		return strings.TrimSpace(b.String())
	}

	// Complete already: the range's events, then the end.
	if got := ids(ts.subscribe("/user/ranged.slice(0,2)").rest()); got != "0:text/plain 1:text/plain 1:" {
		t.Errorf(".slice(0,2): %s, want events 0 and 1, then the cursor at 1", got)
	}
	if got := ids(ts.subscribe("/user/ranged?from=0&until=2500").rest()); got != "0:text/plain 1:text/plain 2:" {
		t.Errorf("until=2500: %s, want events 0 and 1, then the cursor at 2", got)
	}
	for _, c := range []struct{ path, lastID string }{
		{"/user/ranged.slice(0,2)", "1"},
		{"/user/ranged?from=0&until=2500", "2"},
		{"/user/ranged?to=2", ""}, // live from the end, which is past the range
	} {
		hdr := []string{"Accept", "text/event-stream"}
		if c.lastID != "" {
			hdr = append(hdr, "Last-Event-ID", c.lastID)
		}
		if r := ts.admin("GET", c.path, nil, hdr...); r.code != 204 || len(r.body) != 0 {
			t.Errorf("%s resumed after %q: %d %q, want 204", c.path, c.lastID, r.code, r.body)
		}
	}

	// Not complete yet: live until it is.
	byID := ts.subscribe("/user/ranged.slice(1,5)")
	byTime := ts.subscribe("/user/ranged?from=2&until=5000")
	for _, want := range []string{"1", "2"} {
		if ev := byID.next(); ev["id"] != want {
			t.Fatalf(".slice(1,5): %v, want %s", ev, want)
		}
	}
	if ev := byTime.next(); ev["id"] != "2" {
		t.Fatalf("until=5000: %v, want 2", ev)
	}
	wantID(t, "event", ts.post("/user/ranged", "e4000", "Timestamp", "4000"), 3)
	wantID(t, "event", ts.post("/user/ranged", "e5000", "Timestamp", "5000"), 4)
	wantID(t, "event", ts.post("/user/ranged", "e6000", "Timestamp", "6000"), 5)
	if got := ids(byID.rest()); got != "3:text/plain 4:text/plain 4:" {
		t.Errorf(".slice(1,5) after the posts: %s, want 3 and 4, then the cursor at 4", got)
	}
	// The cursor is the last id read, 4 or 5 as the feed's reads went.
	if got := ids(byTime.rest()); got != "3:text/plain 4:" && got != "3:text/plain 5:" {
		t.Errorf("until=5000 after the posts: %s, want 3, then the cursor at 4 or 5", got)
	}
	// Without an end it stays live.
	live := ts.subscribe("/user/ranged?from=5&since=0")
	if ev := live.next(); ev["id"] != "5" {
		t.Fatalf("from=5: %v", ev)
	}
	wantID(t, "event", ts.post("/user/ranged", "later"), 6)
	if ev := live.next(); ev["id"] != "6" {
		t.Fatalf("from=5, later: %v", ev)
	}
}
