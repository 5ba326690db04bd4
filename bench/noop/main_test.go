package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestHandle(t *testing.T) {
	f := func(body string, want string) {
		t.Helper()
		var req fasthttp.Request
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI("/ingest/x")
		req.SetBodyString(body)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, nil, nil)
		handle(&ctx)
		if ctx.Response.StatusCode() != 200 || string(ctx.Response.Header.ContentType()) != "application/json" ||
			string(ctx.Response.Body()) != want {
			t.Fatalf("body %q: %d %s %q", body, ctx.Response.StatusCode(), ctx.Response.Header.ContentType(), ctx.Response.Body())
		}
	}
	f("", `{"topic":"noop","rows":0,"first_id":0,"last_id":0}`+"\n")
	f("hello", `{"topic":"noop","rows":0,"first_id":0,"last_id":5}`+"\n")
	f(strings.Repeat("x", 100<<10), `{"topic":"noop","rows":0,"first_id":0,"last_id":102400}`+"\n")
}

// TestRun starts the server, posts to it over loopback, and stops it by
// cancelling the context.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "noop listening on ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	resp, err := http.Post(url+"/ingest/x", "application/vnd.apache.arrow.stream", bytes.NewReader(make([]byte, 1000)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"last_id":1000}`) {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
	// Over the 1 MiB limit: fasthttp refuses it.
	resp, err = http.Post(url+"/ingest/x", "text/plain", bytes.NewReader(make([]byte, maxBodyBytes+1)))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("a body over MaxRequestBodySize was accepted")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunBadListen(t *testing.T) {
	if err := run(context.Background(), []string{"-listen", "256.0.0.1:x"}, io.Discard, io.Discard); err == nil {
		t.Fatal("a bad listen address did not fail")
	}
}
