package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/server/token"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	Engine *engine.Engine
	// SQL runs /sql; nil answers 503 to /sql.
	SQL *query.SQL
	// Keys mint and verify ingest tokens.
	Keys *token.Keys
	// AdminKey authorises /sql and /_/ as "Authorization: Bearer <key>".
	AdminKey string
	// MaxIngestBytes is http_ingestion.max_request_bytes. Default 128 KiB.
	MaxIngestBytes int
	// MaxBodyBytes bounds any request body; a larger declared Content-Length
	// is refused with 413 before the body is read. Default 1 MiB (or
	// MaxIngestBytes if larger): every endpoint takes small bodies, and a
	// hostile client should not make the server buffer megabytes per
	// connection.
	MaxBodyBytes int
	CORS         CORSOptions
	Logger       *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics.
	Registry *prometheus.Registry
	Now      func() time.Time
}

// Server serves the HTTP API.
type Server struct {
	opts    Options
	eng     *engine.Engine
	keys    atomic.Pointer[token.Keys]
	log     *slog.Logger
	http    *fasthttp.Server
	metrics *httpMetrics
	ready   atomic.Bool

	closing   chan struct{} // closed by Shutdown: ends live subscriptions
	closeOnce sync.Once
}

// New returns a Server; call Serve to start it.
func New(opts Options) (*Server, error) {
	if opts.Engine == nil || opts.Keys == nil {
		return nil, errors.New("server: Engine and Keys are required")
	}
	if opts.MaxIngestBytes <= 0 {
		opts.MaxIngestBytes = 128 << 10
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxBodyBytes < opts.MaxIngestBytes {
		opts.MaxBodyBytes = opts.MaxIngestBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, eng: opts.Engine, log: opts.Logger, closing: make(chan struct{})}
	s.keys.Store(opts.Keys)
	m, err := newHTTPMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.http = &fasthttp.Server{
		Handler:               s.handle,
		Name:                  "ducktail",
		MaxRequestBodySize:    opts.MaxBodyBytes,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		NoDefaultContentType:  true,
		NoDefaultServerHeader: false,
		ReduceMemoryUsage:     false,
		CloseOnShutdown:       true,
		ErrorHandler:          s.parseError,
		ConnState:             m.connState,
		Logger:                fasthttpLogger{s.log},
	}
	s.ready.Store(true)
	return s, nil
}

// SetKeys replaces the token keys (secret rotation).
func (s *Server) SetKeys(k *token.Keys) { s.keys.Store(k) }

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(ln) }

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	s.closeOnce.Do(func() { close(s.closing) })
	return s.http.ShutdownWithContext(ctx)
}

// Handler returns the request handler, for tests and alternative listeners.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handle }

// parseError answers requests fasthttp could not read, such as bodies over
// MaxBodyBytes, with the JSON error body.
func (s *Server) parseError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeErrorBody(ctx, fasthttp.StatusRequestEntityTooLarge, "request body is over the server's limit", 0)
		return
	}
	writeErrorBody(ctx, fasthttp.StatusBadRequest, "cannot read the request: "+err.Error(), 0)
}

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug("fasthttp", "msg", format, "args", args)
}

// route names label the HTTP metrics.
const (
	routeIngest       = "ingest"
	routeIngestSchema = "ingest_schema"
	routeRead         = "read"
	routeEvent        = "event"
	routeSQL          = "sql"
	routeAdmin        = "admin"
	routeHealth       = "healthz"
	routeMetrics      = "metrics"
	routePreflight    = "preflight"
	routeOther        = "other"
)

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	route := routeOther
	defer func() {
		// A bug must cost one request, not the process and every
		// acknowledged-but-unflushed buffer's replay time.
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "method", string(ctx.Method()), "path", string(ctx.Path()),
				"panic", p, "stack", string(debug.Stack()))
			writeErrorBody(ctx, fasthttp.StatusInternalServerError, "internal error; see the server log", 0)
		}
		s.metrics.observe(route, ctx.Response.StatusCode(), time.Since(start), len(ctx.Request.Body()))
	}()
	route = s.dispatch(ctx)
}

func (s *Server) dispatch(ctx *fasthttp.RequestCtx) string {
	path := ctx.Path()
	method := ctx.Method()
	if string(method) == fasthttp.MethodOptions {
		s.preflight(ctx)
		return routePreflight
	}
	if s.applyCORS(ctx) {
		writeErrorBody(ctx, fasthttp.StatusForbidden, "origin "+string(ctx.Request.Header.Peek("Origin"))+
			" is not allowed (http_ingestion.cors.allowed_origins)", 0)
		return routeOther
	}
	switch {
	case bytes.HasPrefix(path, []byte("/ingest/")):
		rest := path[len("/ingest/"):]
		if tok, ok := bytes.CutSuffix(rest, []byte("/schema")); ok {
			if !s.method(ctx, fasthttp.MethodGet) {
				return routeIngestSchema
			}
			s.ingestSchema(ctx, tok)
			return routeIngestSchema
		}
		if !s.method(ctx, fasthttp.MethodPost) {
			return routeIngest
		}
		s.ingest(ctx, rest)
		return routeIngest
	case string(path) == "/healthz":
		s.healthz(ctx)
		return routeHealth
	case string(path) == "/metrics":
		s.serveMetrics(ctx)
		return routeMetrics
	case string(path) == "/sql":
		if s.method(ctx, fasthttp.MethodPost) && s.admin(ctx) {
			s.sql(ctx)
		}
		return routeSQL
	case bytes.HasPrefix(path, []byte("/_/")):
		if s.admin(ctx) {
			s.adminAPI(ctx, path[len("/_/"):])
		}
		return routeAdmin
	case string(method) == fasthttp.MethodPost:
		s.postEvent(ctx)
		return routeEvent
	default:
		s.stream(ctx)
		return routeRead
	}
}

// method answers 405 unless the request uses want.
func (s *Server) method(ctx *fasthttp.RequestCtx, want string) bool {
	if string(ctx.Method()) == want {
		return true
	}
	ctx.Response.Header.Set("Allow", want)
	writeErrorBody(ctx, fasthttp.StatusMethodNotAllowed, "method "+string(ctx.Method())+" is not allowed here; use "+want, 0)
	return false
}

// admin checks the admin key, in constant time, and answers 401 without it.
func (s *Server) admin(ctx *fasthttp.RequestCtx) bool {
	key, ok := bearer(ctx)
	if !ok {
		s.writeError(ctx, base.Errorf(base.ErrUnauthorized, "missing Authorization: Bearer <admin key>"))
		return false
	}
	if s.opts.AdminKey == "" || subtle.ConstantTimeCompare(key, []byte(s.opts.AdminKey)) != 1 {
		s.writeError(ctx, base.Errorf(base.ErrUnauthorized, "the bearer key is not valid"))
		return false
	}
	return true
}

func bearer(ctx *fasthttp.RequestCtx) ([]byte, bool) {
	h := ctx.Request.Header.Peek("Authorization")
	const p = "bearer "
	if len(h) <= len(p) || !bytes.EqualFold(h[:len(p)], []byte(p)) {
		return nil, false
	}
	return bytes.TrimSpace(h[len(p):]), true
}

func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	if !s.ready.Load() {
		writeErrorBody(ctx, fasthttp.StatusServiceUnavailable, "shutting down", 1000)
		return
	}
	if err := s.eng.Err(); err != nil {
		writeErrorBody(ctx, fasthttp.StatusServiceUnavailable, "write-ahead log failed: "+err.Error(), 5000)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"status":"ok"}` + "\n")
}
