package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/valyala/fasthttp"
)

func TestLoopbackAddr(t *testing.T) {
	f := func(raw, want, wantErr string) {
		t.Helper()
		got, err := loopbackAddr(raw)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("loopbackAddr(%q) = %q, %v; want an error containing %q", raw, got, err, wantErr)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("loopbackAddr(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	f("http://127.0.0.1:8080/ingest/abc", "127.0.0.1:8080", "")
	f("http://127.0.0.1:1/", "127.0.0.1:1", "")
	f("http://localhost:8080/", "", "refusing host")
	f("http://10.0.0.1:8080/", "", "refusing host")
	f("http://example.com:80/", "", "refusing host")
	f("http://[::1]:8080/", "", "refusing host")
	f("http://127.0.0.1.example.com:8080/", "", "refusing host")
	f("http://127.0.0.1/", "", "explicit port")
	f("https://127.0.0.1:8443/", "", "only http")
	f("http://u:p@127.0.0.1:8080/", "", "user info")
	f("", "", "missing")
}

func TestParseSize(t *testing.T) {
	f := func(s string, want int, ok bool) {
		t.Helper()
		got, err := parseSize(s)
		if ok != (err == nil) || got != want {
			t.Fatalf("parseSize(%q) = %d, %v; want %d, ok %v", s, got, err, want, ok)
		}
	}
	f("100KiB", 100<<10, true)
	f("10 KiB", 10<<10, true)
	f("1MiB", 1<<20, true)
	f("64KB", 64000, true)
	f("2MB", 2000000, true)
	f("512B", 512, true)
	f("2048", 2048, true)
	f("0", 0, false)
	f("-1KiB", 0, false)
	f("65MiB", 0, false)
	f("lots", 0, false)
	f("", 0, false)
}

func TestSizedBody(t *testing.T) {
	for _, target := range []int{1 << 10, 10 << 10, 100 << 10, 1 << 20} {
		bodies, err := buildBodies(target, 3, "application/vnd.apache.arrow.stream")
		if err != nil {
			t.Fatal(err)
		}
		for v, b := range bodies {
			if d := len(b.data) - target; d*50 > target || -d*50 > target {
				t.Errorf("target %d variant %d: %d bytes, more than 2%% off", target, v, len(b.data))
			}
			if v > 0 && bytes.Equal(b.data, bodies[0].data) {
				t.Errorf("target %d: variant %d equals variant 0", target, v)
			}
			r, err := ipc.NewReader(bytes.NewReader(b.data), ipc.WithAllocator(memory.NewGoAllocator()))
			if err != nil {
				t.Fatalf("target %d variant %d: not an IPC stream: %v", target, v, err)
			}
			if !r.Schema().Equal(demoSchema()) {
				t.Fatalf("schema %s", r.Schema())
			}
			var rows int64
			for r.Next() {
				rows += r.RecordBatch().NumRows()
			}
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			r.Release()
			if rows != b.rows || rows < 1 {
				t.Errorf("target %d variant %d: %d rows decoded, %d claimed", target, v, rows, b.rows)
			}
		}
	}
	if _, err := sizedBody(0, 0); err == nil {
		t.Error("sizedBody(0) did not fail")
	}
	if b, err := sizedBody(10, 0); err != nil || b.rows != 1 {
		t.Errorf("a tiny target gives %d rows, %v; want 1 row", b.rows, err)
	}
}

// serve runs h on a loopback listener and returns its URL.
func serve(t *testing.T, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h, MaxRequestBodySize: 8 << 20}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String() + "/ingest/0123456789abcdef"
}

func TestLoad(t *testing.T) {
	var seen atomic.Int64
	var badCT atomic.Int64
	ok := serve(t, func(ctx *fasthttp.RequestCtx) {
		seen.Add(int64(len(ctx.Request.Body())))
		if string(ctx.Request.Header.ContentType()) != "application/vnd.apache.arrow.stream" {
			badCT.Add(1)
		}
		ctx.SetBodyString(`{"rows":1}`)
	})
	var n atomic.Int64
	flaky := serve(t, func(ctx *fasthttp.RequestCtx) {
		if n.Add(1)%2 == 0 {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.Response.Header.Set("X-Retry-After-Ms", "2")
		}
	})
	failing := serve(t, func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusRequestEntityTooLarge) })

	cfg := func(url string, n int64, d time.Duration) config {
		return config{url: url, conns: 4, duration: d, maxRequests: n, bodySize: 4 << 10, variants: 3,
			contentType: "application/vnd.apache.arrow.stream", timeout: 10 * time.Second, backoff: true}
	}
	res, err := load(cfg(ok, 50, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 50 || res.OK != 50 || len(res.Errors) != 0 {
		t.Fatalf("ok server: %+v", res)
	}
	if got, want := seen.Load(), 50*int64(res.BodyBytes); got < want*9/10 || got > want*11/10 {
		t.Errorf("server saw %d body bytes, want about %d", got, want)
	}
	if badCT.Load() != 0 {
		t.Errorf("%d requests without the Arrow content type", badCT.Load())
	}
	if res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms || res.MBPerS <= 0 || res.RowsPerS <= 0 {
		t.Errorf("figures out of order: %+v", res)
	}
	if strings.Contains(res.URL, "0123456789abcdef") {
		t.Errorf("report shows the token: %s", res.URL)
	}

	res, err = load(cfg(flaky, 40, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 40 || res.OK != 20 || res.Errors["503"] != 20 || res.BackoffS <= 0 {
		t.Fatalf("flaky server: %+v", res)
	}

	// Bounded by duration: a huge -n still stops.
	res, err = load(cfg(ok, 1e9, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 1 || res.Requests >= 1e9 {
		t.Fatalf("duration-bounded run: %+v", res)
	}

	// run: JSON on stdout, exit 1 when nothing succeeded, 2 on bad flags.
	var out, errOut bytes.Buffer
	if code := run([]string{"-url", failing, "-c", "2", "-n", "6", "-body", "2KiB"}, &out, &errOut); code != 1 {
		t.Fatalf("run against a failing server exited %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "{") || !strings.Contains(out.String(), `"errors":{"413":6}`) {
		t.Fatalf("JSON line: %s", out.String())
	}
	if !strings.Contains(errOut.String(), "413:6") {
		t.Fatalf("human line: %s", errOut.String())
	}
	if code := run([]string{"-url", "http://192.0.2.1:80/"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("run against a remote host exited %d, want 2", code)
	}
	if code := run([]string{"-url", ok, "-c", "0", "-body", "x"}, io.Discard, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "-c:") || !strings.Contains(errOut.String(), "-body:") {
		t.Fatalf("bad flags: exit %d, %s", code, errOut.String())
	}
}

func TestRetryAfter(t *testing.T) {
	f := func(headers []string, want time.Duration) {
		t.Helper()
		var resp fasthttp.Response
		for i := 0; i+1 < len(headers); i += 2 {
			resp.Header.Set(headers[i], headers[i+1])
		}
		if got := retryAfter(&resp); got != want {
			t.Fatalf("retryAfter(%q) = %v, want %v", headers, got, want)
		}
	}
	f(nil, 100*time.Millisecond)
	f([]string{"X-Retry-After-Ms", "250"}, 250*time.Millisecond)
	f([]string{"X-Retry-After-Ms", "250", "Retry-After", "1"}, 250*time.Millisecond)
	f([]string{"Retry-After", "0"}, 0)
	f([]string{"Retry-After", "30"}, maxBackoff)
	f([]string{"X-Retry-After-Ms", "999999"}, maxBackoff)
	f([]string{"X-Retry-After-Ms", "-5"}, 100*time.Millisecond)
	f([]string{"X-Retry-After-Ms", "soon"}, 100*time.Millisecond)
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	res, err := load(config{url: url, conns: 2, duration: time.Minute, maxRequests: 10, bodySize: 1024,
		variants: 1, contentType: "text/plain", timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.Errors["conn"]+res.Errors["timeout"] != 10 {
		t.Fatalf("refused: %+v", res)
	}
}

func TestJSONBodiesAndHeaders(t *testing.T) {
	bodies, err := buildBodies(200, 2, "application/json")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		if len(b.data) != 200 || !json.Valid(b.data) || b.rows != 1 {
			t.Fatalf("JSON body %d bytes, valid %v: %.40s", len(b.data), json.Valid(b.data), b.data)
		}
	}
	var h headerFlags
	if err := h.Set("Authorization: Bearer k"); err != nil || h[0] != [2]string{"Authorization", "Bearer k"} {
		t.Fatalf("header flag: %v %v", h, err)
	}
	if err := h.Set("no colon"); err == nil {
		t.Fatal("a header without a colon was accepted")
	}
}

// TestPaired: -baseline alternates the two URLs slice by slice; each gets
// its own figures over all its slices, and the target's line carries one
// ratio per pair of slices. A target that takes 5 ms a request against an
// instant baseline must come out far below 1.
func TestPaired(t *testing.T) {
	var fastN, slowN atomic.Int64
	fast := serve(t, func(ctx *fasthttp.RequestCtx) { fastN.Add(1) })
	slow := serve(t, func(ctx *fasthttp.RequestCtx) {
		slowN.Add(1)
		time.Sleep(5 * time.Millisecond)
	})
	cfg := config{url: slow, baseline: fast, baselineLabel: "fast", label: "slow", slices: 4, conns: 2,
		duration: 400 * time.Millisecond, maxRequests: 1e9, bodySize: 1 << 10, variants: 2,
		contentType: "application/json", timeout: 10 * time.Second}
	base, res, err := paired(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if base.Label != "fast" || res.Label != "slow" || base.Slices != 4 || res.Slices != 4 {
		t.Fatalf("labels or slices: %+v / %+v", base, res)
	}
	if base.OK != fastN.Load() || res.OK != slowN.Load() || res.OK == 0 {
		t.Fatalf("baseline answered %d (server saw %d), target %d (server saw %d)",
			base.OK, fastN.Load(), res.OK, slowN.Load())
	}
	if len(res.SliceRatios) != 4 {
		t.Fatalf("slice ratios %v, want 4", res.SliceRatios)
	}
	for _, r := range res.SliceRatios {
		if r <= 0 || r >= 0.5 {
			t.Fatalf("slice ratios %v: want each in (0, 0.5) for a 5 ms target against an instant baseline", res.SliceRatios)
		}
	}
	if res.RatioMedian != median(res.SliceRatios) || len(base.SliceRatios) != 0 {
		t.Fatalf("median %v of %v; baseline ratios %v", res.RatioMedian, res.SliceRatios, base.SliceRatios)
	}
	// Each side ran about half the slices' time, not the whole of it twice.
	if base.Seconds < 0.3 || base.Seconds > 1 || res.Seconds < 0.3 || res.Seconds > 1 {
		t.Fatalf("seconds: baseline %.2f, target %.2f, want about 0.4 each", base.Seconds, res.Seconds)
	}

	// run prints the baseline's JSON line, then the target's.
	var out, errOut bytes.Buffer
	code := run([]string{"-url", slow, "-baseline", fast, "-slices", "2", "-d", "200ms", "-c", "2", "-body", "1KiB",
		"-content-type", "application/json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("run exited %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout has %d lines, want 2: %s", len(lines), out.String())
	}
	var first, second Result
	if json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &second) != nil {
		t.Fatalf("stdout is not two JSON lines: %s", out.String())
	}
	if first.Label != "baseline" || len(second.SliceRatios) != 2 || !strings.Contains(errOut.String(), "slice by slice") {
		t.Fatalf("lines: %+v / %+v; stderr %s", first, second, errOut.String())
	}
	if code := run([]string{"-url", slow, "-baseline", "http://192.0.2.1:80/", "-slices", "0"}, io.Discard, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "-baseline:") || !strings.Contains(errOut.String(), "-slices:") {
		t.Fatalf("bad -baseline and -slices: exit %d, %s", code, errOut.String())
	}
}
