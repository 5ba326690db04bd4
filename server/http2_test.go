package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHTTP2 serves the same handlers over TLS with net/http, as the TLS
// listener does: a client speaking HTTP/2 ingests, reads, gets JSON errors
// and CORS answers.
func TestHTTP2(t *testing.T) {
	ts := startServer(t)
	tok := ts.createDemo("demo/events")
	hs := httptest.NewUnstartedServer(ts.srv)
	hs.EnableHTTP2 = true
	hs.StartTLS()
	defer hs.Close()
	client := hs.Client()
	do := func(method, path string, body []byte, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, bytes.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.ProtoMajor != 2 {
			t.Fatalf("%s %s spoke %s, want HTTP/2", method, path, resp.Proto)
		}
		return resp, b
	}
	resp, b := do("POST", "/ingest/"+tok, demoBatch(t, 3, 7), "Content-Type", arrowStreamType)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"rows":3`) {
		t.Fatalf("ingest: %d %s", resp.StatusCode, b)
	}
	resp, b = do("GET", "/demo/events", nil, "Authorization", "Bearer "+testAdminKey)
	var evs []event
	if err := json.Unmarshal(b, &evs); err != nil || len(evs) != 3 || evs[2].Data["value"] != 9.0 ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("read: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	resp, b = do("POST", "/ingest/"+strings.Repeat("0", 64), demoBatch(t, 1, 0), "Content-Type", arrowStreamType)
	if resp.StatusCode != 401 || !strings.Contains(string(b), `"error"`) {
		t.Fatalf("bad token: %d %s", resp.StatusCode, b)
	}
	resp, _ = do("OPTIONS", "/ingest/"+tok, nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, b = do("POST", "/ingest/"+tok, make([]byte, 2<<20), "Content-Type", arrowStreamType)
	if resp.StatusCode != 413 {
		t.Fatalf("oversized: %d %s", resp.StatusCode, b)
	}
}

// TestHTTP2Subscription: a live subscription over HTTP/2 streams its events
// as they come, and its feed ends when the client leaves.
func TestHTTP2Subscription(t *testing.T) {
	ts := startServer(t)
	ts.postEvent("/user/h2", "text/plain", "before")
	hs := httptest.NewUnstartedServer(ts.srv)
	hs.EnableHTTP2 = true
	hs.StartTLS()
	t.Cleanup(hs.Close) // after the subscription's body is closed: Close waits for it
	client := hs.Client()
	client.Transport.(*http.Transport).ResponseHeaderTimeout = 10 * time.Second
	c := subscribeURL(t, client, hs.URL+"/user/h2?from=0&data=true")
	if c.resp.ProtoMajor != 2 {
		t.Fatalf("subscription spoke %s, want HTTP/2", c.resp.Proto)
	}
	if ev := c.next(); ev["id"] != "0" || !strings.Contains(ev["data"], `"data":"before"`) {
		t.Fatalf("replayed event: %v", ev)
	}
	ts.postEvent("/user/h2", "text/plain", "after")
	if ev := c.next(); ev["id"] != "1" || !strings.Contains(ev["data"], `"data":"after"`) {
		t.Fatalf("live event: %v", ev)
	}
	c.resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for ts.srv.feeds.running.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the feed outlived its HTTP/2 subscriber")
		}
		time.Sleep(time.Millisecond)
	}
}
