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
