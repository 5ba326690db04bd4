package server

import (
	"bytes"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/server/encode"
	"github.com/valyala/fasthttp"
)

// sql is POST /sql: read-only DuckDB SQL, the body being the query.
func (s *Server) sql(ctx *fasthttp.RequestCtx) {
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
	res, err := s.opts.SQL.Query(ctx, q, nil)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	defer res.Release()
	var out bytes.Buffer
	rw, err := encode.NewRowWriter(&out, f, res.Schema)
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
		s.writeError(ctx, base.Errorf(base.ErrInvalid, "sql: %w", err))
		return
	}
	if err := rw.Close(); err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetContentType(f.ContentType())
	ctx.SetBody(out.Bytes())
}
