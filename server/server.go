package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/server/access"
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
	// AdminKey authorises /sql and /_/ as "Authorization: Bearer <key>",
	// and every stream.
	AdminKey string
	// Access holds API keys, stream keys and public streams. Nil: only the
	// admin key opens streams.
	Access *access.Store
	// MaxIngestBytes is http_ingestion.max_request_bytes. Default 128 KiB.
	MaxIngestBytes int
	// MaxBodyBytes bounds any request body; a larger declared Content-Length
	// is refused with 413 before the body is read. Default 1 MiB (or
	// MaxIngestBytes if larger): every endpoint takes small bodies, and a
	// hostile client should not make the server buffer megabytes per
	// connection.
	MaxBodyBytes int
	// MaxSQLResultBytes bounds a /sql answer, encoded; a larger one is 413.
	// Default 256 MiB.
	MaxSQLResultBytes int64
	// SQLTimeout bounds the run of a /sql query and the encoding of its
	// answer; a query stopped by it is answered 504. Default 60 s, the
	// time most proxies and HTTP clients wait.
	SQLTimeout time.Duration
	CORS       CORSOptions
	Logger     *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics.
	Registry *prometheus.Registry
	Now      func() time.Time

	// feedLimits bound SSE feeds and subscribers (feed.go); tests shrink them.
	feedLimits feedLimits
	// writeTimeout bounds the writing of an answer, and each write of a
	// live subscription (client.extend). Default 60 s; tests shrink it.
	writeTimeout time.Duration
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

	// discarded counts writes discarded by blocklists (blocklist.go).
	discarded *prometheus.CounterVec

	closing   chan struct{} // closed by Shutdown: ends live subscriptions
	closeOnce sync.Once
	feeds     feedSet // SSE feeds, one per subscribed stream (feed.go)
	// reads serves every range read (listings, single events, feeds), so
	// that they share open segment readers and recycled buffers.
	reads *query.Reader
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
	if opts.MaxSQLResultBytes <= 0 {
		opts.MaxSQLResultBytes = 256 << 20
	}
	if opts.SQLTimeout <= 0 {
		opts.SQLTimeout = 60 * time.Second
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
	if opts.writeTimeout <= 0 {
		opts.writeTimeout = 60 * time.Second
	}
	s := &Server{opts: opts, eng: opts.Engine, log: opts.Logger, closing: make(chan struct{}),
		reads: query.NewReader(opts.Engine.Store(), 0)}
	s.keys.Store(opts.Keys)
	m, err := newHTTPMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if s.discarded, err = newDiscardCounter(opts.Registry); err != nil {
		return nil, err
	}
	s.http = &fasthttp.Server{
		Handler:               s.handle,
		Name:                  "ducktail",
		MaxRequestBodySize:    opts.MaxBodyBytes,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          opts.writeTimeout,
		IdleTimeout:           120 * time.Second,
		NoDefaultContentType:  true,
		NoDefaultServerHeader: false,
		ReduceMemoryUsage:     false,
		CloseOnShutdown:       true,
		// The request line and headers must fit the read buffer: 16 KiB, not
		// fasthttp's 4 KiB, which a long Referer or a few cookies exceed.
		ReadBufferSize: maxHeaderBytes,
		// fasthttp's errors would otherwise quote the request they could
		// not read, Authorization header included, into the answer.
		SecureErrorLogMessage: true,
		ErrorHandler:          s.parseError,
		ConnState:             m.connState,
		Logger:                fasthttpLogger{s.log},
	}
	// A form-data POST is one event stored as received (SPEC 4.2):
	// fasthttp's pre-parse would refuse a broken one with its own error and
	// make Body() a re-encoding of the parsed form.
	s.http.DisablePreParseMultipartForm = true
	s.ready.Store(true)
	return s, nil
}

// SetKeys replaces the token keys (secret rotation).
func (s *Server) SetKeys(k *token.Keys) { s.keys.Store(k) }

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(lingerListener{ln}) }

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	s.closeOnce.Do(func() { close(s.closing) })
	err := s.http.ShutdownWithContext(ctx)
	// Feeds hold snapshots while they read: they end before the engine closes.
	err = errors.Join(err, s.waitFeeds(ctx))
	s.reads.Close()
	return err
}

// Handler returns the request handler, for tests and alternative listeners.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handle }

// maxHeaderBytes bounds a request's line and headers.
const maxHeaderBytes = 16 << 10

// parseError answers requests fasthttp could not read, such as bodies over
// MaxBodyBytes, with the JSON error body.
func (s *Server) parseError(ctx *fasthttp.RequestCtx, err error) {
	// fasthttp closes the connection after this answer, often with the
	// client's body unread (linger.go).
	lingerOnClose(ctx.Conn())
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		// The headers were read: a browser must see this answer too.
		s.applyCORS(ctx)
		writeErrorBody(ctx, fasthttp.StatusRequestEntityTooLarge, "request body is over the limit of "+strconv.Itoa(s.opts.MaxBodyBytes)+" bytes", 0)
		return
	}
	if small := (*fasthttp.ErrSmallBuffer)(nil); errors.As(err, &small) {
		// 431, HTTP's own status for it (RFC 6585), as fasthttp answers.
		writeErrorBody(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge,
			"request line and headers are over the limit of "+strconv.Itoa(maxHeaderBytes)+" bytes", 0)
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
	e, fixed := endpointOf(path)
	if fixed && e.route != routeAdmin && !s.allowMethod(ctx, e.methods) {
		return e.route
	}
	switch e.route {
	case routeIngestSchema:
		s.ingestSchema(ctx, path[len("/ingest/"):len(path)-len("/schema")])
	case routeIngest:
		s.ingest(ctx, path[len("/ingest/"):])
	case routeHealth:
		s.healthz(ctx)
	case routeMetrics:
		s.serveMetrics(ctx)
	case routeSQL:
		if scope, ok := s.sqlAccess(ctx); ok {
			s.sql(ctx, scope)
		}
	case routeAdmin:
		if s.admin(ctx) {
			s.adminAPI(ctx, path[len("/_/"):])
		}
	default:
		switch string(method) {
		case fasthttp.MethodPost:
			s.postEvent(ctx)
			return routeEvent
		case fasthttp.MethodPut:
			s.putEventType(ctx)
			return routeEvent
		}
		s.stream(ctx)
		return routeRead
	}
	return e.route
}

// endpoint is one of the API's fixed paths: all but the stream paths.
type endpoint struct {
	route   string // the metrics label
	methods string // what Allow names, but OPTIONS; the admin API's vary by path
}

// endpointOf returns the endpoint path is, and false for a stream path.
func endpointOf(path []byte) (endpoint, bool) {
	switch {
	case bytes.HasPrefix(path, []byte("/ingest/")):
		if bytes.HasSuffix(path[len("/ingest/"):], []byte("/schema")) {
			return endpoint{routeIngestSchema, fasthttp.MethodGet}, true
		}
		return endpoint{routeIngest, fasthttp.MethodPost}, true
	case string(path) == "/sql":
		return endpoint{routeSQL, fasthttp.MethodPost}, true
	case string(path) == "/healthz":
		return endpoint{routeHealth, "GET, HEAD"}, true
	case string(path) == "/metrics":
		return endpoint{routeMetrics, "GET, HEAD"}, true
	case bytes.HasPrefix(path, []byte("/_/")):
		return endpoint{routeAdmin, "GET, POST, PUT, DELETE"}, true
	}
	return endpoint{}, false
}

// allowMethod answers 405, with Allow, unless the request's method is one
// of allow (a list as Allow writes it).
func (s *Server) allowMethod(ctx *fasthttp.RequestCtx, allow string) bool {
	m := string(ctx.Method())
	if slices.Contains(strings.Split(allow, ", "), m) {
		return true
	}
	writeErrorBody(ctx, fasthttp.StatusMethodNotAllowed, "method "+m+" is not allowed on "+string(ctx.Path())+"; it allows "+allow, 0)
	ctx.Response.Header.Set("Allow", allow) // after: writeErrorBody resets the headers
	return false
}

// admin checks the admin key, in constant time: 401 without a valid key,
// 403 for a valid API key (it does not open the admin API).
func (s *Server) admin(ctx *fasthttp.RequestCtx) bool {
	key, ok := bearer(ctx)
	if !ok {
		s.writeError(ctx, base.Errorf(base.ErrUnauthorized, "missing Authorization: Bearer <admin key>"))
		return false
	}
	if s.isAdmin(key) {
		return true
	}
	if s.opts.Access != nil && s.opts.Access.IsAPIKey(key) {
		s.writeError(ctx, base.Errorf(base.ErrForbidden, "this needs the admin key; API keys open streams only"))
		return false
	}
	s.writeError(ctx, base.Errorf(base.ErrUnauthorized, "the bearer key is not valid"))
	return false
}

func (s *Server) isAdmin(key []byte) bool {
	return s.opts.AdminKey != "" && subtle.ConstantTimeCompare(key, []byte(s.opts.AdminKey)) == 1
}

// authorize checks that the request may do r on the stream name (SPEC 4.2):
// the admin key, an API key with the right, a public stream, or, to write,
// a stream key's signature in a Signature header or the key and signature
// query parameters. It answers 401 without valid credentials and 403 for
// valid credentials without the right.
func (s *Server) authorize(ctx *fasthttp.RequestCtx, name base.StreamName, r access.Right) bool {
	return s.authorizeAs(ctx, "", name, r)
}

// authorizeAs is authorize, where account, if not "", names the account of
// an account substream /name(account) (keyGrant).
func (s *Server) authorizeAs(ctx *fasthttp.RequestCtx, account string, name base.StreamName, r access.Right) bool {
	// A signature that does not verify is refused whatever else the request
	// carries, as an invalid bearer key is on a public stream: invalid
	// credentials are 401.
	signed, err := s.signed(ctx, name)
	if err != nil {
		s.writeError(ctx, err)
		return false
	}
	key, hasKey := bearer(ctx)
	err = s.grant(key, hasKey, account, name, r)
	switch {
	case err == nil:
		return true
	case signed && r == access.Write && (errors.Is(err, errNoKey) || errors.Is(err, base.ErrForbidden)):
		// SPEC 4.2 takes a bearer key or a signature: a page that sends its
		// read key with every request still writes with its signatures.
		return true
	case !errors.Is(err, errNoKey):
		s.writeError(ctx, err)
		return false
	case signed:
		s.writeError(ctx, base.Errorf(base.ErrForbidden,
			"a stream key's signature authorises writes only: reading %s needs Authorization: Bearer <key> with the read right", name))
		return false
	}
	s.writeError(ctx, missingCredentials(ctx, name))
	return false
}

// missingCredentials is the 401 of a request that brought none, saying
// what it brought instead, if anything.
func missingCredentials(ctx *fasthttp.RequestCtx, name base.StreamName) error {
	if h := ctx.Request.Header.Peek("Authorization"); len(h) > 0 {
		scheme, _, _ := strings.Cut(string(h), " ")
		return base.Errorf(base.ErrUnauthorized,
			"Authorization: %.20s is not a scheme this server takes: send Authorization: Bearer <key>, or a stream key's Signature, for %s", scheme, name)
	}
	if ctx.QueryArgs().Has("key") {
		return base.Errorf(base.ErrUnauthorized, "?key= names a stream key, but ?signature= is missing, for %s", name)
	}
	return base.Errorf(base.ErrUnauthorized,
		"missing credentials for %s: Authorization: Bearer <key>, or a stream key's Signature", name)
}

// signed reports whether the request carries a stream key's signature, in
// the Signature header or as ?signature= (with ?key=), and checks it: an
// error wrapping base.ErrUnauthorized if it is malformed or does not match
// one of name's stream keys. A valid signature proves the sender holds a
// stream key; it is the caller that decides what that allows.
func (s *Server) signed(ctx *fasthttp.RequestCtx, name base.StreamName) (bool, error) {
	keyID, sig := "", ""
	if h := ctx.Request.Header.Peek("Signature"); len(h) > 0 {
		var err error
		if keyID, sig, err = access.ParseSignatureHeader(string(h)); err != nil {
			return true, err
		}
	} else if q := ctx.QueryArgs().Peek("signature"); len(q) > 0 {
		keyID, sig = string(ctx.QueryArgs().Peek("key")), string(q)
	}
	if sig == "" {
		return false, nil
	}
	acc := s.opts.Access
	if acc == nil {
		return true, base.Errorf(base.ErrUnauthorized, "%s has no stream keys: this server runs without an access store", name)
	}
	// The signed target is the path; the client may have signed it as sent
	// or decoded.
	err := acc.CheckSignature(name, keyID, string(ctx.Method()), string(ctx.Path()), sig)
	if err != nil {
		err = acc.CheckSignature(name, keyID, string(ctx.Method()), string(ctx.URI().PathOriginal()), sig)
	}
	return true, err
}

// errNoKey is grant's answer to a request with no bearer key on a stream
// that is not public for the right: a signature may still open it.
var errNoKey = errors.New("no bearer key")

// grant is the part of authorization that a bearer key (hasKey) and the
// stream's public modes decide, without the rest of the request, so that a
// live subscription can ask again when keys change: nil if they allow r on
// name; an error wrapping base.ErrUnauthorized for a key that is not valid,
// base.ErrForbidden for one without the right, errNoKey without a key.
// A stream public for r is open to every valid key, as it is to none: a
// page that sends its key with every request still reads public streams.
func (s *Server) grant(key []byte, hasKey bool, account string, name base.StreamName, r access.Right) error {
	acc := s.opts.Access
	if !hasKey {
		if acc != nil && acc.Public(name, r) {
			return nil
		}
		return errNoKey
	}
	err := s.keyGrant(key, account, name, r)
	if err != nil && errors.Is(err, base.ErrForbidden) && acc.Public(name, r) {
		return nil
	}
	return err
}

// keyGrant returns nil if the bearer key itself (the admin key or an API
// key) has the right r on name, with errors as grant's. For an account
// substream /name(account) of a factory whose account_rights hold r, the
// account's own account-wide API keys have the right too.
func (s *Server) keyGrant(key []byte, account string, name base.StreamName, r access.Right) error {
	if s.isAdmin(key) {
		return nil
	}
	acc := s.opts.Access
	if acc == nil {
		return base.Errorf(base.ErrUnauthorized, "the bearer key is not valid")
	}
	err := acc.CheckAPIKey(key, name, r)
	if err == nil || !errors.Is(err, base.ErrForbidden) || account == "" {
		return err
	}
	if f, ferr := s.eng.Stream(name); ferr == nil && f.IsFactory() &&
		strings.ContainsRune(f.Settings().AccountRights, rune(r)) &&
		acc.CheckAccountKey(key, account, r) == nil {
		return nil
	}
	return err
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
