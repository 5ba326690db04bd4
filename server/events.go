package server

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server/access"
	"github.com/ducktail/ducktail/server/path"
	"github.com/valyala/fasthttp"
)

// postEvent is POST /{account}/{stream}[:type][[n]] (SPEC 4.2): the body is
// one untyped event, or, as multipart of any subtype but form-data and
// alternative, a bulk push of one event per part, all or nothing. Metadata
// comes from the path's :type, else the Event-Type header, else the
// event-type query parameter, else the media type (a part's own headers
// come first); the timestamp from the Timestamp header, else the timestamp
// query parameter. The stream is created at its first write. The answer is
// the new id as a JSON number, or the array of ids of a bulk push.
func (s *Server) postEvent(ctx *fasthttp.RequestCtx) {
	p, err := parsePath(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	switch {
	case p.Suffix == "json" || p.Suffix == "ts":
		writeErrorBody(ctx, fasthttp.StatusMethodNotAllowed, "method POST is not allowed on "+p.String()+
			": a type's definition is read with GET; it is defined with PUT /{account}/{stream}:{type}", 0)
		ctx.Response.Header.Set("Allow", streamMethods(p))
		return
	case len(p.Chain) > 0:
		s.writeError(ctx, base.Errorf(base.ErrInvalid,
			"%s: a write takes no selectors (.%s): POST to the stream, with :type and [n] if need be; selectors are for reads",
			p, p.Chain[0].Name))
		return
	case p.Suffix != "" || p.Logs || p.Pipe != nil:
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "%s: reducers, logs and pipes are not served yet", p))
		return
	}
	name := base.StreamName{Account: p.Account, Name: p.Stream}
	if !s.authorizePath(ctx, p, name, access.Write) || s.discardBlocked(ctx, name, p.Sub) {
		return
	}
	body := ctx.Request.Body()
	ct := contentTypeString(bytes.TrimSpace(ctx.Request.Header.ContentType()))
	if ct == "" {
		ct = "application/octet-stream"
	}
	if !utf8.ValidString(ct) {
		s.writeError(ctx, base.Errorf(base.ErrInvalid, "Content-Type %q is not valid UTF-8", ct))
		return
	}
	if len(body) > engine.MaxEventBytes && !isBulk(mediaType(ct)) && mediaType(ct) != csvContentType {
		s.writeError(ctx, base.Errorf(base.ErrTooLarge, "event data is %d bytes, over the limit of %d (SPEC 4.2)", len(body), engine.MaxEventBytes))
		return
	}
	media := mediaType(ct)
	typ := p.Type
	if typ == "" {
		typ = firstNonEmpty(ctx.Request.Header.Peek("Event-Type"), ctx.QueryArgs().Peek("event-type"))
	}
	if typ != "" {
		if err := path.ValidateEventType(typ); err != nil {
			s.writeError(ctx, err)
			return
		}
	}
	ev := engine.Event{ContentType: ct, Type: typ, Data: body, Index: p.Index}
	if v := firstNonEmpty(ctx.Request.Header.Peek("Timestamp"), ctx.QueryArgs().Peek("timestamp")); v != "" {
		ts, err := engine.ParseTimestamp(v)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		ev.TS, ev.Forced = ts, true
	}
	st, types, err := s.writeTarget(ctx, name, p.Sub) // substream.go
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if st != nil && st.IsTopic() {
		s.postTopicJSON(ctx, st, media, ev) // topicjson.go
		return
	}
	one, evs, err := parseEvents(types, media, ct, body, ev) // firstwrite.go
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if st == nil {
		if st, err = s.firstWrite(ctx, name, p.Sub, types, one, evs); err != nil {
			s.writeError(ctx, err)
			return
		}
	}
	if evs != nil {
		s.appendAll(ctx, st, evs)
		return
	}
	id, err := s.eng.AppendEvent(ctx, st, one)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(strconv.AppendInt(ctx.Response.Body()[:0], id, 10))
}

// appendAll appends evs, all or nothing, and answers the JSON array of
// their ids: a bulk push, or the rows of a CSV body.
func (s *Server) appendAll(ctx *fasthttp.RequestCtx, st *engine.Stream, evs []engine.Event) {
	ids, err := s.eng.AppendEvents(ctx, st, evs)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(appendIDs(ctx.Response.Body()[:0], ids[0], ids[len(ids)-1]+1))
}

func firstNonEmpty(vs ...[]byte) string {
	for _, v := range vs {
		if v = bytes.TrimSpace(v); len(v) > 0 {
			return string(v)
		}
	}
	return ""
}

// contentTypeString returns b as a string, without allocating for the
// common Content-Type values: it is read for every event POST.
func contentTypeString(b []byte) string {
	switch string(b) {
	case "application/json":
		return "application/json"
	case "text/plain":
		return "text/plain"
	case "text/plain;charset=UTF-8":
		return "text/plain;charset=UTF-8"
	case "application/octet-stream":
		return "application/octet-stream"
	case "application/x-www-form-urlencoded":
		return "application/x-www-form-urlencoded"
	}
	return string(b)
}
