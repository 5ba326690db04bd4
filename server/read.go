package server

import (
	"bytes"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/server/encode"
	"github.com/valyala/fasthttp"
)

// Read limits: a listing without limit= returns at most defaultLimit events;
// limit= may ask for up to maxLimit. Clients page with from=.
const (
	defaultLimit = 10_000
	maxLimit     = 1_000_000
)

// streamPath is a parsed /{account}/{stream}[n].
type streamPath struct {
	name  base.StreamName
	index int64 // -1: none
}

func parseStreamPath(p []byte) (streamPath, error) {
	sp := streamPath{index: -1}
	rest, ok := bytes.CutPrefix(p, []byte("/"))
	if !ok {
		return sp, base.Errorf(base.ErrNotFound, "no such path")
	}
	if i := bytes.IndexByte(rest, '['); i >= 0 {
		if !bytes.HasSuffix(rest, []byte("]")) {
			return sp, base.Errorf(base.ErrInvalid, "path %q: '[' without a closing ']' at the end", p)
		}
		n, err := strconv.ParseInt(string(rest[i+1:len(rest)-1]), 10, 64)
		if err != nil || n < 0 {
			return sp, base.Errorf(base.ErrInvalid, "path %q: the index in [...] must be a non-negative integer", p)
		}
		sp.index = n
		rest = rest[:i]
	}
	name, err := base.ParseStreamName(string(rest))
	if err != nil {
		return sp, err
	}
	sp.name = name
	return sp, nil
}

// stream serves GET /{account}/{stream} and /{account}/{stream}[n].
func (s *Server) stream(ctx *fasthttp.RequestCtx) {
	sp, err := parseStreamPath(ctx.Path())
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if !s.method(ctx, fasthttp.MethodGet) || !s.admin(ctx) {
		return
	}
	st, err := s.eng.Stream(sp.name)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	r, err := rangeFromArgs(ctx.QueryArgs())
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if sp.index >= 0 {
		r = query.AllRange()
		r.From, r.To, r.Limit = sp.index, sp.index+1, 1
	}
	f, ok := encode.Negotiate(ctx.Request.Header.Peek("Accept"))
	if !ok {
		s.writeError(ctx, base.Errorf(base.ErrInvalid, "Accept %q: this endpoint answers application/json, application/x-ndjson, text/csv or %s",
			ctx.Request.Header.Peek("Accept"), arrowStreamType))
		return
	}
	snap := st.Snapshot()
	defer snap.Release()
	if sp.index >= 0 && sp.index >= snap.NextID {
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "stream %s has no event %d (next id is %d)", sp.name, sp.index, snap.NextID))
		return
	}
	// A listing is encoded straight into the response body; a single event
	// is encoded aside, to unwrap it from the JSON array.
	var single bytes.Buffer
	var w io.Writer = ctx
	if sp.index >= 0 && f == encode.JSON {
		w = &single
	}
	ew, err := encode.NewEventWriter(w, f, st.Stored())
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if err := query.Read(ctx, s.eng.Store(), snap, r, func(rec arrow.RecordBatch) error { return ew.Write(rec) }); err != nil {
		s.writeError(ctx, err)
		return
	}
	if err := ew.Close(); err != nil {
		s.writeError(ctx, err)
		return
	}
	if w == &single {
		body := bytes.TrimSpace(single.Bytes())
		body = bytes.TrimSuffix(bytes.TrimPrefix(body, []byte("[")), []byte("]"))
		ctx.SetBody(append(bytes.TrimSpace(body), '\n'))
	}
	ctx.SetContentType(f.ContentType())
}

// rangeFromArgs reads from, to, since, until and limit (SPEC 4.2).
func rangeFromArgs(args *fasthttp.Args) (query.Range, error) {
	r := query.AllRange()
	r.Limit = defaultLimit
	for _, p := range []struct {
		key string
		dst *int64
		min int64
	}{
		{"from", &r.From, 0}, {"to", &r.To, 0},
		{"since", &r.Since, math.MinInt64}, {"until", &r.Until, math.MinInt64},
		{"limit", &r.Limit, 1},
	} {
		v := args.Peek(p.key)
		if v == nil {
			continue
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n < p.min {
			return r, base.Errorf(base.ErrInvalid, "query parameter %s=%q: want an integer ≥ %d", p.key, v, p.min)
		}
		*p.dst = n
	}
	if r.Limit > maxLimit {
		return r, base.Errorf(base.ErrInvalid, "limit=%d is over the maximum of %d; page with from=", r.Limit, maxLimit)
	}
	return r, nil
}
