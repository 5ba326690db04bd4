package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/query/sqlengine"
	"github.com/ducktail/ducktail/server/access"
	"github.com/ducktail/ducktail/server/encode"
	"github.com/valyala/fasthttp"
)

// sqlAccess decides what a /sql request may read (SPEC 4.4): the admin key
// everything (nil scope), an API key with the read right its account or
// stream. It answers 401 without a valid key and 403 for an API key without
// the read right.
func (s *Server) sqlAccess(ctx *fasthttp.RequestCtx) (*query.Scope, bool) {
	key, ok := bearer(ctx)
	if !ok {
		s.writeError(ctx, base.Errorf(base.ErrUnauthorized, "missing Authorization: Bearer <admin key or API key>"))
		return nil, false
	}
	if s.isAdmin(key) {
		return nil, true
	}
	if s.opts.Access == nil {
		s.writeError(ctx, base.Errorf(base.ErrUnauthorized, "the bearer key is not valid"))
		return nil, false
	}
	g, err := s.opts.Access.Grant(key)
	if err != nil {
		s.writeError(ctx, err)
		return nil, false
	}
	if !strings.ContainsRune(g.Rights, rune(access.Read)) {
		s.writeError(ctx, base.Errorf(base.ErrForbidden, "this API key has no read right (rights %q); /sql needs r", g.Rights))
		return nil, false
	}
	return &query.Scope{Account: g.Account, Stream: g.Stream}, true
}

// sql is POST /sql: read-only DuckDB SQL, the body being the query, over
// every stream for the admin (scope nil), else over the scope's streams.
func (s *Server) sql(ctx *fasthttp.RequestCtx, scope *query.Scope) {
	if s.opts.SQL == nil {
		s.writeError(ctx, base.Errorf(base.ErrOverCapacity, "sql is not available on this server"))
		return
	}
	q := string(bytes.TrimSpace(ctx.Request.Body()))
	if q == "" {
		s.writeError(ctx, base.Errorf(base.ErrInvalid, "sql: the request body must be a SQL query"))
		return
	}
	f, ok := encode.Negotiate(ctx.Request.Header.Peek("Accept"))
	if !ok {
		s.writeError(ctx, base.Errorf(base.ErrInvalid, "Accept %q: /sql answers application/json, application/x-ndjson, text/csv or %s",
			ctx.Request.Header.Peek("Accept"), arrowStreamType))
		return
	}
	// fasthttp's ctx is done when the server shuts down; qctx also when
	// the client goes away, since a query nobody waits for should not go
	// on using the cores, and after SQLTimeout.
	qctx, cancel := context.WithTimeout(ctx, s.opts.SQLTimeout)
	defer cancel()
	defer cancelOnGone(ctx, cancel)()
	var res *sqlengine.Result
	var err error
	if scope == nil {
		res, err = s.opts.SQL.Query(qctx, q, nil)
	} else {
		res, err = s.opts.SQL.QueryScoped(qctx, q, *scope)
	}
	if err != nil {
		s.writeError(ctx, s.interrupted(qctx, err))
		return
	}
	defer res.Release()
	// The answer is encoded straight into the response body, up to
	// MaxSQLResultBytes: a query of a hundred million rows held them all
	// in memory (6.9 GB) before the first byte left.
	out := &limitWriter{w: ctx, left: s.opts.MaxSQLResultBytes, limit: s.opts.MaxSQLResultBytes}
	rw, err := encode.NewRowWriter(out, f, res.Schema)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	for res.Reader.Next() {
		if err := rw.Write(res.Reader.RecordBatch()); err != nil {
			s.writeError(ctx, err)
			return
		}
	}
	if err := res.Reader.Err(); err != nil {
		if qctx.Err() != nil {
			s.writeError(ctx, s.interrupted(qctx, err))
			return
		}
		s.writeError(ctx, base.Errorf(base.ErrInvalid, "sql: %w", err))
		return
	}
	if err := rw.Close(); err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetContentType(f.ContentType())
}

// limitWriter writes to w until left of its limit bytes are used up, then
// fails with base.ErrTooLarge.
type limitWriter struct {
	w           io.Writer
	left, limit int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, base.Errorf(base.ErrTooLarge,
			"sql: the result is over the limit of %d bytes; narrow it (LIMIT, WHERE, aggregates) or page with OFFSET", l.limit)
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

// interrupted turns a query stopped by SQLTimeout into a 504 and one
// cancelled by the server's shutdown into the 503 it is, rather than an
// internal error; other errors are returned as they are (a client that went
// away is not there to read the answer).
func (s *Server) interrupted(qctx context.Context, err error) error {
	if errors.Is(qctx.Err(), context.DeadlineExceeded) {
		return base.Errorf(base.ErrTimeout, "sql: the query was stopped after the server's limit of %v (sql.timeout); narrow it (WHERE on _id or _ts, LIMIT, fewer columns)", s.opts.SQLTimeout)
	}
	if !errors.Is(err, context.Canceled) && qctx.Err() == nil {
		return err
	}
	select {
	case <-s.closing:
		return base.Errorf(base.ErrClosed, "sql: the server is shutting down, and the query was stopped; retry it")
	default:
		return base.Errorf(base.ErrClosed, "sql: the query was stopped: %v", err)
	}
}

// cancelOnGone calls cancel if the client goes away before it is answered
// (clientGone). The returned func, called once the answer is written,
// stops the watch.
func cancelOnGone(ctx *fasthttp.RequestCtx, cancel context.CancelFunc) (stop func()) {
	gone, lc := clientGone(ctx)
	if gone == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-gone:
			cancel()
		case <-done:
		}
	}()
	return func() {
		close(done)
		if lc != nil {
			// Again: an error answer keeps only some headers
			// (writeErrorBody), and a connection whose bytes the watch may
			// take must not be kept alive.
			ctx.SetConnectionClose()
		}
	}
}
