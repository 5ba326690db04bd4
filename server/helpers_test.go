package server

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/ducktail/ducktail/server/access"
	"github.com/ducktail/ducktail/storage/vfs"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/query/sqlengine"
	"github.com/ducktail/ducktail/server/token"
	"github.com/prometheus/client_golang/prometheus"
)

const testAdminKey = "test-admin-key"

// testServer is a real server on a loopback port over a temp data dir.
type testServer struct {
	t    *testing.T
	url  string
	eng  *engine.Engine
	keys *token.Keys
	srv  *Server
	dir  string
	db   *sqlengine.Engine
}

type serverOption func(*Options, *engine.Options)

func startServer(t *testing.T, opts ...serverOption) *testServer {
	t.Helper()
	dir := t.TempDir()
	return startServerAt(t, dir, opts...)
}

func startServerAt(t *testing.T, dir string, opts ...serverOption) *testServer {
	t.Helper()
	ctx := context.Background()
	eo := engine.Options{DataDir: dir}
	keys, err := token.NewKeys(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	so := Options{Keys: keys, AdminKey: testAdminKey, CORS: CORSOptions{AllowedOrigins: []string{"https://app.example.com"}, MaxAgeSeconds: 600}}
	so.Logger = slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eo.Logger = so.Logger
	so.Registry = prometheus.NewRegistry()
	eo.Registerer = so.Registry
	for _, o := range opts {
		o(&so, &eo)
	}
	eng, err := engine.Open(ctx, eo)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlengine.Open(sqlengine.Options{DataDir: filepath.Join(dir, "streams"), TempDir: filepath.Join(dir, "tmp")})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := access.Open(vfs.OS{}, filepath.Join(dir, "access.json"))
	if err != nil {
		t.Fatal(err)
	}
	so.Access = acc
	so.Engine = eng
	so.SQL = query.NewSQL(eng, db)
	srv, err := New(so)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	ts := &testServer{t: t, url: "http://" + ln.Addr().String(), eng: eng, keys: keys, srv: srv, dir: dir, db: db}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts.srv.Shutdown(ctx)
	if err := ts.eng.Close(ctx); err != nil {
		ts.t.Errorf("engine close: %v", err)
	}
	ts.srv.opts.SQL.Close()
	ts.db.Close()
	ts.srv = nil
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d is not JSON (%v): %s", r.code, err, r.body)
	}
}

// errorText returns the "error" of a JSON error body, failing the test if
// the body is not one.
func (r response) errorText(t *testing.T) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	r.json(t, &e)
	if e.Error == "" {
		t.Fatalf("error body without an error message: %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q", ct)
	}
	return e.Error
}

func (ts *testServer) do(method, path string, body []byte, headers ...string) response {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.url+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

func (ts *testServer) admin(method, path string, body []byte, headers ...string) response {
	ts.t.Helper()
	return ts.do(method, path, body, append([]string{"Authorization", "Bearer " + testAdminKey}, headers...)...)
}

// createDemo creates the demo topic and returns a token for it.
func (ts *testServer) createDemo(name string) string {
	ts.t.Helper()
	r := ts.admin("POST", "/_/topics", []byte(`{"name":"`+name+`","fields":[
		{"name":"timestamp","type":"int64"},{"name":"event","type":"utf8"},{"name":"value","type":"float64"}]}`))
	if r.code != 201 && r.code != 200 {
		ts.t.Fatalf("create topic: %d %s", r.code, r.body)
	}
	return ts.token(name, "", 0)
}

func (ts *testServer) token(topic, domain string, tenant uint32) string {
	ts.t.Helper()
	body, _ := json.Marshal(map[string]any{"topic": topic, "domain": domain, "tenant": tenant, "ttl": "1h"})
	r := ts.admin("POST", "/_/tokens", body)
	var out struct {
		Token string `json:"token"`
	}
	r.json(ts.t, &out)
	if r.code != 200 || len(out.Token) != 64 {
		ts.t.Fatalf("mint token: %d %s", r.code, r.body)
	}
	return out.Token
}

func (ts *testServer) ingest(tok string, body []byte, headers ...string) response {
	ts.t.Helper()
	return ts.do("POST", "/ingest/"+tok, body, append([]string{"Content-Type", arrowStreamType}, headers...)...)
}

var demoSchema = arrow.NewSchema([]arrow.Field{
	{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "event", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// demoBatch builds an IPC stream of n demo rows whose value is base+i.
func demoBatch(t testing.TB, n int, base float64) []byte {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, demoSchema)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(1_700_000_000_000 + int64(i))
		b.Field(1).(*array.StringBuilder).Append([]string{"click", "view", "scroll"}[i%3])
		b.Field(2).(*array.Float64Builder).Append(base + float64(i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return ipcBytes(t, rec)
}

func ipcBytes(t testing.TB, recs ...arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(recs[0].Schema()))
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testLogWriter sends server logs to the test's log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
