package server

import (
	"bytes"
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server/token"
	"github.com/valyala/fasthttp"
)

// benchEventBytes is the body size of bench/run.sh part (e): one small JSON
// event per request.
const benchEventBytes = 200

// BenchmarkPostEvent drives the real POST /{account}/{stream} handler
// in-process, with no network, over an engine with durability buffered (so
// fsync does not dominate): one 200-byte JSON event per request, with the
// admin key, as bench/run.sh part (e) sends them, from 32 goroutines (its
// 32 connections), so that WAL rounds group requests as they do under load.
// It reports the CPU and the allocations of the event path (path parsing,
// auth, the WAL append, buffering, the answer, and the background flushes
// with the default limits), and cpu-ns/op: the process's CPU time per
// request, which does not count the time goroutines wait for the WAL.
func BenchmarkPostEvent(b *testing.B) {
	srv := newEventBench(b, engine.FlushOptions{})
	body := benchEventBody(benchEventBytes)
	h := srv.Handler()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	cpu0 := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rc := eventCtx("/user/bench", body)
		for pb.Next() {
			rc.Response.Reset()
			h(rc)
			if rc.Response.StatusCode() != fasthttp.StatusOK {
				b.Errorf("post: %d %s", rc.Response.StatusCode(), rc.Response.Body())
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkPostEventSerial is BenchmarkPostEvent from one goroutine, with
// the flushes run with the timer stopped: its allocs/op and B/op are those
// of the request alone. Its ns/op is mostly the wait for the WAL writer.
func BenchmarkPostEventSerial(b *testing.B) {
	srv := newEventBench(b, engine.FlushOptions{MaxRows: 1 << 40, MaxBytes: 1 << 40, MaxAge: time.Hour})
	body := benchEventBody(benchEventBytes)
	rc := eventCtx("/user/bench", body)
	h := srv.Handler()
	do := func() {
		rc.Response.Reset()
		h(rc)
		if rc.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("post: %d %s", rc.Response.StatusCode(), rc.Response.Body())
		}
	}
	flushEvery := benchFlushBytes / len(body)
	flush := func() {
		if err := srv.eng.Flush(context.Background()); err != nil {
			b.Fatalf("flush: %v", err)
		}
	}
	for range flushEvery {
		do()
	}
	flush()

	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for i := range b.N {
		if i > 0 && i%flushEvery == 0 {
			b.StopTimer()
			flush()
			b.StartTimer()
		}
		do()
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// newEventBench returns a server over a fresh engine with durability
// buffered and the given flush limits.
func newEventBench(b *testing.B, flush engine.FlushOptions) *Server {
	b.Helper()
	eng := benchEngine(b, flush)
	keys, err := token.NewKeys(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{Engine: eng, Keys: keys, AdminKey: testAdminKey})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// eventCtx returns a RequestCtx holding a POST of a JSON body to path with
// the admin key, ready to be handled again and again.
func eventCtx(path string, body []byte) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(path)
	req.Header.SetHost("127.0.0.1")
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	req.SetBody(body)
	rc := &fasthttp.RequestCtx{}
	rc.Init(&req, nil, nil)
	return rc
}

// processCPU returns the user and system CPU time the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEventBody is a JSON object of n bytes.
func benchEventBody(n int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"user":"u-1234","action":"click","page":"/home","pad":"`)
	for buf.Len() < n-2 {
		buf.WriteByte('x')
	}
	buf.WriteString(`"}`)
	return buf.Bytes()
}
