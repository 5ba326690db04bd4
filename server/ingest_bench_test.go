package server

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server/token"
	"github.com/valyala/fasthttp"
)

// benchBodySizes are the request body sizes of BenchmarkIngestAlloc and
// BenchmarkNoopHandler: B/op must not grow from the first to the second.
var benchBodySizes = []int{10 << 10, 100 << 10}

// benchFlushBytes is how many body bytes the ingest benchmark appends
// between two flushes. The flushes run with the timer stopped, so their
// allocations (Parquet encoding) are not counted, but they keep the engine
// in its steady state: arena chunks are recycled instead of growing.
const benchFlushBytes = 4 << 20

// BenchmarkIngestAlloc drives the real POST /ingest/{token} handler
// in-process, with no network, over an engine in a temp dir with durability
// buffered (so fsync does not dominate). It reports B/op and allocs/op of
// the ingest path: token check, Arrow decode and schema check, WAL append,
// buffering and the JSON answer.
func BenchmarkIngestAlloc(b *testing.B) {
	for _, size := range benchBodySizes {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			// The benchmark flushes by itself, every benchFlushBytes.
			env := newIngestBench(b, engine.FlushOptions{MaxRows: 1 << 40, MaxBytes: 1 << 40, MaxAge: time.Hour})
			body, rows := demoBodyOfSize(b, size)
			rc := postCtx("/ingest/"+env.token, body)
			h := env.srv.Handler()
			flushEvery := max(1, benchFlushBytes/len(body))
			do := func() {
				rc.Response.Reset()
				h(rc)
				if rc.Response.StatusCode() != fasthttp.StatusOK {
					b.Fatalf("ingest: %d %s", rc.Response.StatusCode(), rc.Response.Body())
				}
			}
			// Warm up: pools, arena chunks, metric children, WAL file.
			for range 2 * flushEvery {
				do()
			}
			env.flush(b)

			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%flushEvery == 0 {
					b.StopTimer()
					env.flush(b)
					b.StartTimer()
				}
				do()
			}
			b.StopTimer()
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkIngestHTTP posts 100 KiB bodies to the real server over loopback
// from 16 client goroutines, with durability buffered and the default flush
// limits, so that flushes run in the background as in production. It is
// there to be profiled (-cpuprofile): bench/run.sh measures the same path
// with separate processes.
func BenchmarkIngestHTTP(b *testing.B) {
	env := newIngestBench(b, engine.FlushOptions{})
	body, _ := demoBodyOfSize(b, 100<<10)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go env.srv.Serve(ln)
	b.Cleanup(func() { env.srv.Shutdown(context.Background()) })
	hc := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 16}
	url := "http://" + ln.Addr().String() + "/ingest/" + env.token
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0))) // 16 client goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(url)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType(arrowStreamType)
		req.SetBodyRaw(body)
		for pb.Next() {
			if err := hc.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != fasthttp.StatusOK {
				b.Errorf("ingest: %d %s", resp.StatusCode(), resp.Body())
				return
			}
		}
	})
}

// BenchmarkNoopHandler sends the same requests as BenchmarkIngestAlloc
// through a handler that only reads the body and answers a small JSON body:
// the in-process baseline.
func BenchmarkNoopHandler(b *testing.B) {
	for _, size := range benchBodySizes {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			body, _ := demoBodyOfSize(b, size)
			rc := postCtx("/ingest/"+string(make([]byte, 64)), body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				rc.Response.Reset()
				noopIngest(rc)
				if rc.Response.StatusCode() != fasthttp.StatusOK {
					b.Fatalf("noop: %d", rc.Response.StatusCode())
				}
			}
		})
	}
}

// noopIngest reads the body and answers like ingest does, doing nothing else.
func noopIngest(ctx *fasthttp.RequestCtx) {
	n := len(ctx.Request.Body())
	ctx.SetContentType("application/json")
	b := append(ctx.Response.Body()[:0], `{"topic":"noop","rows":0,"first_id":0,"last_id":`...)
	b = fmt.Appendf(b, "%d}\n", n)
	ctx.SetBody(b)
}

// ingestBench is an engine with the demo topic and a server over it.
type ingestBench struct {
	eng   *engine.Engine
	srv   *Server
	token string
}

// benchEngine opens an engine on a fresh data dir with durability buffered
// (the benchmarks measure CPU, not the fsync), a memory budget that never
// refuses and the given flush limits; it is closed when b ends.
func benchEngine(b *testing.B, flush engine.FlushOptions) *engine.Engine {
	b.Helper()
	eng, err := engine.Open(context.Background(), engine.Options{
		DataDir:      b.TempDir(),
		Durability:   engine.DurabilityBuffered,
		Flush:        flush,
		MemoryBudget: 1 << 30,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := eng.Close(context.Background()); err != nil {
			b.Errorf("engine close: %v", err)
		}
	})
	return eng
}

func newIngestBench(b *testing.B, flush engine.FlushOptions) *ingestBench {
	b.Helper()
	ctx := context.Background()
	eng := benchEngine(b, flush)
	name, err := base.ParseStreamName("demo/events")
	if err != nil {
		b.Fatal(err)
	}
	st, err := eng.CreateTopic(ctx, name, demoSchema)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := token.NewKeys(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	c, err := MintClaims(st.TopicID(), "", 0, "1h", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{Engine: eng, Keys: keys, AdminKey: testAdminKey})
	if err != nil {
		b.Fatal(err)
	}
	return &ingestBench{eng: eng, srv: srv, token: keys.Mint(c)}
}

func (e *ingestBench) flush(b *testing.B) {
	b.Helper()
	if err := e.eng.Flush(context.Background()); err != nil {
		b.Fatalf("flush: %v", err)
	}
}

// postCtx returns a RequestCtx holding a POST of body to path with the
// Arrow stream content type, ready to be handled again and again.
func postCtx(path string, body []byte) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(path)
	req.Header.SetHost("127.0.0.1")
	req.Header.SetContentType(arrowStreamType)
	req.SetBody(body)
	rc := &fasthttp.RequestCtx{}
	rc.Init(&req, nil, nil)
	return rc
}

// demoBodyOfSize returns an Arrow IPC stream of demo rows of about size
// bytes (within 2%) and its row count.
func demoBodyOfSize(b *testing.B, size int) ([]byte, int) {
	b.Helper()
	rows := max(1, size/24)
	var body []byte
	for range 8 {
		body = demoBatch(b, rows, 1)
		if d := len(body) - size; d*50 <= size && -d*50 <= size {
			return body, rows
		}
		rows = max(1, rows*size/len(body))
	}
	return body, rows
}
