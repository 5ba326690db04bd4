package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hub is a minimal SSE server of one stream: POST appends, GET with
// Accept: text/event-stream subscribes from the end, as ducktail does.
// skipEvery > 0 drops every skipEvery-th event for one subscriber.
type hub struct {
	mu        sync.Mutex
	events    []string
	changed   chan struct{}
	skipEvery int
	subs      int
}

func newHub() *hub { return &hub{changed: make(chan struct{})} }

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.events = append(h.events, string(b))
		id := len(h.events) - 1
		close(h.changed)
		h.changed = make(chan struct{})
		h.mu.Unlock()
		fmt.Fprint(w, id)
		return
	}
	h.mu.Lock()
	next := len(h.events)
	h.subs++
	lossy := h.skipEvery > 0 && h.subs == 1
	h.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "retry: 1000\n\n")
	w.(http.Flusher).Flush()
	for {
		h.mu.Lock()
		evs, ch := h.events[next:], h.changed
		h.mu.Unlock()
		for _, e := range evs {
			if !(lossy && next%h.skipEvery == 0) {
				fmt.Fprintf(w, "id: %d\nevent: application/json\ndata: {\"id\":%d,\"data\":%s}\n\n", next, next, strconv.Quote(e))
			}
			next++
		}
		w.(http.Flusher).Flush()
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		}
	}
}

func TestFanout(t *testing.T) {
	for _, tc := range []struct {
		name       string
		skipEvery  int
		wantMissed bool
	}{{"all delivered", 0, false}, {"one lossy subscriber", 3, true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub()
			h.skipEvery = tc.skipEvery
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := config{base: srv.URL, stream: "a/s", subs: 20, rate: 200, duration: 250 * time.Millisecond,
				grace: 300 * time.Millisecond, connect: 10 * time.Second}
			if err := c.check(); err != nil {
				t.Fatal(err)
			}
			res, err := fanout(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent < 10 || res.Expected != int64(res.Sent)*20 || len(res.PostErrors) != 0 {
				t.Fatalf("%+v", res)
			}
			if tc.wantMissed != (res.Missed > 0) || res.Delivered+res.Missed != res.Expected || res.Duplicates != 0 {
				t.Fatalf("%+v", res)
			}
			if res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms {
				t.Fatalf("latencies out of order: %+v", res)
			}
			if !strings.Contains(res.Human(), "missed") || !strings.HasPrefix(res.JSON(), "{") {
				t.Fatalf("reports: %s %s", res.Human(), res.JSON())
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	good := config{base: "http://127.0.0.1:8080", stream: "a/s", subs: 1, rate: 1, duration: 1, connect: 1}
	if err := good.check(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []func(*config){
		func(c *config) { c.base = "http://192.0.2.1:80" },
		func(c *config) { c.stream = "a" },
		func(c *config) { c.subs = 0 },
		func(c *config) { c.rate = 0 },
		func(c *config) { c.duration = 0 },
	} {
		c := good
		bad(&c)
		if c.check() == nil {
			t.Fatalf("accepted %+v", c)
		}
	}
}
