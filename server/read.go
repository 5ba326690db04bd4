package server

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/server/access"
	"github.com/ducktail/ducktail/server/encode"
	"github.com/ducktail/ducktail/server/path"
	"github.com/valyala/fasthttp"
)

// Read limits: a listing without limit= returns at most defaultLimit events;
// limit= may ask for up to maxLimit. Clients page with from=.
const (
	defaultLimit = 10_000
	maxLimit     = 1_000_000
)

// stream serves GET /{account}/{stream}, /{account}/{stream}[n] and the
// chains of SPEC 4.2 (.slice, .range, .limit), parsed by server/path.
func (s *Server) stream(ctx *fasthttp.RequestCtx) {
	p, err := parsePath(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if p.Suffix == "json" || p.Suffix == "ts" {
		s.getEventType(ctx, p)
		return
	}
	if p.Suffix != "" || p.Logs || p.Pipe != nil {
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "%s: reducers, logs and pipes are not served yet", p))
		return
	}
	name := base.StreamName{Account: p.Account, Name: p.Stream}
	// HEAD is answered as GET without the body (fasthttp drops it).
	if m := string(ctx.Method()); m != fasthttp.MethodGet && m != fasthttp.MethodHead {
		// POST and PUT were routed before reaching here (server.go).
		writeErrorBody(ctx, fasthttp.StatusMethodNotAllowed, "method "+m+
			" is not allowed on a stream; use GET to read, POST to append, PUT {stream}:{type} to define a type", 0)
		ctx.Response.Header.Set("Allow", streamMethods(p))
		return
	}
	// Taken before the check, so that a subscription misses no change.
	var accessChanged <-chan struct{}
	if s.opts.Access != nil {
		accessChanged = s.opts.Access.Changed()
	}
	if !s.authorizePath(ctx, p, name, access.Read) {
		return
	}
	st, err := s.readStream(ctx, name, p.Sub) // substream.go
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	sel, err := p.Selector()
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	r, err := rangeFromArgs(ctx.QueryArgs())
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	// The path's selectors and the query parameters both apply.
	r.From, r.To = max(r.From, sel.From), min(r.To, sel.To)
	r.Since, r.Until = max(r.Since, sel.Since), min(r.Until, sel.Until)
	if sel.Limit != math.MaxInt64 {
		if err := checkLimit(fmt.Sprintf(".limit(%d)", sel.Limit), sel.Limit); err != nil {
			s.writeError(ctx, err)
			return
		}
		r.Limit = min(r.Limit, sel.Limit)
		if ctx.QueryArgs().Peek("limit") == nil {
			r.Limit = sel.Limit
		}
	}
	// Types: the path's (:type, .eventType()) and the eventType query
	// parameters both apply.
	r.Types = sel.Types
	if qs := ctx.QueryArgs().PeekMulti("eventType"); len(qs) > 0 {
		var q []string
		for _, v := range qs {
			if err := path.ValidateEventType(string(v)); err != nil {
				s.writeError(ctx, fmt.Errorf("query parameter eventType: %w", err))
				return
			}
			q = append(q, string(v))
		}
		if len(r.Types) == 0 {
			r.Types = q
		} else {
			r.Types = slices.DeleteFunc(r.Types, func(t string) bool { return !slices.Contains(q, t) })
			if len(r.Types) == 0 {
				r.Types = []string{""} // no type is empty: nothing matches
			}
		}
	}
	single := p.Index >= 0
	if single {
		r.Limit = 1
	}
	if accept := ctx.Request.Header.Peek("Accept"); encode.WantsEventStream(accept) && !single {
		explicit := ctx.QueryArgs().Peek("from") != nil || slices.ContainsFunc(p.Chain, func(c path.Call) bool { return c.Name == "slice" })
		withData := false
		switch d := ctx.QueryArgs().Peek("data"); string(d) {
		case "true", "1":
			withData = true
		case "", "false", "0":
		default:
			s.writeError(ctx, base.Errorf(base.ErrInvalid, "query parameter data=%q: want true or false", d))
			return
		}
		if ctx.IsHead() {
			sseHeaders(ctx) // a subscription's headers, without opening one
			return
		}
		s.subscribe(ctx, st, r, withData, explicit, s.readGrant(ctx, p, name, accessChanged))
		return
	}
	f, ok := encode.Negotiate(ctx.Request.Header.Peek("Accept"))
	if !ok {
		s.writeError(ctx, base.Errorf(base.ErrInvalid, "Accept %q: this endpoint answers application/json, application/x-ndjson, text/csv or %s",
			ctx.Request.Header.Peek("Accept"), arrowStreamType))
		return
	}
	snap := st.Snapshot()
	defer snap.Release()
	if single && (p.Index >= snap.NextID || p.Index < snap.Manifest.Trimmed) {
		held := fmt.Sprintf("ids %d to %d are held", snap.Manifest.Trimmed, snap.NextID-1)
		if snap.Manifest.Trimmed >= snap.NextID {
			held = "it holds no events"
		}
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "stream %s has no event %d (%s)", st.Label(), p.Index, held))
		return
	}
	// A listing is encoded straight into the response body; a single event
	// is encoded aside, to unwrap it from the JSON array.
	var one bytes.Buffer
	var w io.Writer = ctx
	if single && f == encode.JSON {
		w = &one
	}
	ew, err := encode.NewEventWriter(w, f, st.Stored())
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ew.SetTyped(streamTypes{st})
	rows := int64(0)
	if err := s.reads.Read(ctx, snap, r, func(rec arrow.RecordBatch) error {
		rows += rec.NumRows()
		return ew.Write(rec)
	}); err != nil {
		s.writeError(ctx, err)
		return
	}
	if single && rows == 0 {
		// The event exists (checked above) but the path's or the query's
		// selectors leave it out: there is no event to show.
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "event %d of stream %s does not match the selectors (type, slice, range)", p.Index, st.Label()))
		return
	}
	if err := ew.Close(); err != nil {
		s.writeError(ctx, err)
		return
	}
	if w == &one {
		body := bytes.TrimSpace(one.Bytes())
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
	// As .slice(2, 1) and .range(9, 5) are refused: an empty answer would
	// hide the mistake. An end left out is AllRange's, which no given end
	// passes.
	if r.From > r.To {
		return r, base.Errorf(base.ErrInvalid, "query parameters from=%d and to=%d: the end is before the start (ids; to is exclusive)", r.From, r.To)
	}
	if r.Since > r.Until {
		return r, base.Errorf(base.ErrInvalid, "query parameters since=%d and until=%d: the end is before the start (timestamps; until is exclusive)", r.Since, r.Until)
	}
	if v := args.Peek("limit"); v != nil {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			n = 0 // not a number: refused below, as a limit out of range
		}
		if err := checkLimit(fmt.Sprintf("limit=%s", v), n); err != nil {
			return r, err
		}
		r.Limit = n
	}
	return r, nil
}

// checkLimit checks a listing's limit n, written as what (limit=n or
// .limit(n)): from 1 to maxLimit. Zero is not "no limit": a client wanting
// everything pages with from=.
func checkLimit(what string, n int64) error {
	if n < 1 || n > maxLimit {
		return base.Errorf(base.ErrInvalid, "%s: want a limit from 1 to %d; page with from=", what, maxLimit)
	}
	return nil
}
