package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ducktail/ducktail/engine"
)

// endlessQuery would run for many minutes.
const endlessQuery = "select count(*) from range(1000000000000)"

// TestSQLAbandonedQueryStops: a query whose client hangs up is stopped, not
// left to use the cores: its handler ends (answering 503 to nobody), which
// the request counter shows.
func TestSQLAbandonedQueryStops(t *testing.T) {
	ts := startServer(t)
	reqCtx, hangUp := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(reqCtx, "POST", ts.url+"/sql", strings.NewReader(endlessQuery))
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("the endless query answered %d", resp.StatusCode)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	hangUp()
	<-done
	const stopped = `http_requests_total{code="503",route="sql"} 1`
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := ts.do("GET", "/metrics", nil)
		if bytes.Contains(r.body, []byte(stopped)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned query was still running after 30 s (no %s in /metrics)", stopped)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSQLShutdownIs503: a query the server's shutdown stops is answered 503
// saying so, not 500.
func TestSQLShutdownIs503(t *testing.T) {
	ts := startServer(t)
	answer := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("POST", ts.url+"/sql", strings.NewReader(endlessQuery))
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answer <- response{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- response{code: resp.StatusCode, header: resp.Header, body: b}
	}()
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	r := <-answer
	if r.code != 503 || !strings.Contains(r.errorText(t), "shutting down") {
		t.Fatalf("a query stopped by shutdown: %d %s, want 503 saying the server is shutting down", r.code, r.body)
	}
}

// TestSQLTimeout: a query that runs past SQLTimeout is stopped and answered
// 504 naming the limit, and the server goes on answering queries.
func TestSQLTimeout(t *testing.T) {
	ts := startServer(t, func(o *Options, _ *engine.Options) { o.SQLTimeout = 300 * time.Millisecond })
	r := ts.admin("POST", "/sql", []byte(endlessQuery))
	if r.code != 504 || !strings.Contains(r.errorText(t), "sql.timeout") {
		t.Fatalf("a query past the time limit: %d %s, want 504 naming sql.timeout", r.code, r.body)
	}
	if got := ts.sqlRows("select 42 as n"); got != `[{"n":42}]` {
		t.Fatalf("a query after the timeout: %s", got)
	}
}
