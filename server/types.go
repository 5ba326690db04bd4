package server

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/jtd"
	"github.com/ducktail/ducktail/engine/jtdarrow"
	"github.com/ducktail/ducktail/server/access"
	"github.com/ducktail/ducktail/server/encode"
	"github.com/ducktail/ducktail/server/path"
	"github.com/valyala/fasthttp"
)

// putEventType is PUT /{account}/{stream}:{type} (SPEC 4.2): the body is a
// JSON Type Definition (RFC 8927) whose root is of the properties form. It
// creates the event stream if needed; a redefinition must keep the Arrow
// type of every property (409 naming it otherwise). The answer is the
// stored definition: 201 when the type is new, 200 when it was redefined
// or already so.
func (s *Server) putEventType(ctx *fasthttp.RequestCtx) {
	p, err := parsePath(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if p.Type == "" || p.Sub != nil || len(p.Chain) > 0 || p.Suffix != "" || p.Logs || p.Pipe != nil || p.Index >= 0 {
		msg := "PUT defines an event type: PUT /{account}/{stream}:{type} with a JSON Type Definition as the body"
		if p.Sub != nil && p.Type != "" {
			// A factory's types hold for all its substreams.
			msg += "; a substream's types are its factory's: PUT /" + p.Account + "/" + p.Stream + ":{type}"
		}
		writeErrorBody(ctx, fasthttp.StatusMethodNotAllowed, msg, 0)
		ctx.Response.Header.Set("Allow", streamMethods(p))
		return
	}
	name := base.StreamName{Account: p.Account, Name: p.Stream}
	// A type is schema: its properties become columns that never go away.
	// It takes a key with the write right; what lets anyone append events
	// (a public stream, a stream key's signature) does not define types.
	signed, err := s.signed(ctx, name)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	const only = "public writes and stream-key signatures append events only"
	key, ok := bearer(ctx)
	if !ok {
		// A valid signature is a credential without this right.
		kind := base.ErrUnauthorized
		if signed {
			kind = base.ErrForbidden
		}
		s.writeError(ctx, base.Errorf(kind,
			"defining an event type of %s needs Authorization: Bearer <key> with the write right; %s", name, only))
		return
	}
	if err := s.keyGrant(key, "", name, access.Write); err != nil {
		if errors.Is(err, base.ErrForbidden) && s.opts.Access != nil && s.opts.Access.Public(name, access.Write) {
			err = fmt.Errorf("%w: %s is public for writes, but %s", err, name, only)
		}
		s.writeError(ctx, err)
		return
	}
	body := ctx.Request.Body()
	if len(body) > engine.MaxTypeBytes {
		s.writeError(ctx, base.Errorf(base.ErrTooLarge, "type definition is %d bytes, over the limit of %d", len(body), engine.MaxTypeBytes))
		return
	}
	if ct := mediaType(string(ctx.Request.Header.ContentType())); ct != "" && ct != "application/json" &&
		ct != "text/plain" && ct != "application/x-www-form-urlencoded" && ct != "application/octet-stream" {
		s.writeError(ctx, base.Errorf(base.ErrUnsupported, "Content-Type %s: a type definition is JSON (application/json)", ct))
		return
	}
	t, created, err := s.eng.PutEventType(ctx, name, p.Type, body)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if created {
		ctx.SetStatusCode(fasthttp.StatusCreated)
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(append(append(ctx.Response.Body()[:0], t.JTD...), '\n'))
}

// getEventType is GET /{account}/{stream}:{type}.json (the definition as
// stored) and .ts (TypeScript declarations made from it).
func (s *Server) getEventType(ctx *fasthttp.RequestCtx, p *path.Path) {
	name := base.StreamName{Account: p.Account, Name: p.Stream}
	if !s.allowMethod(ctx, streamMethods(p)) || !s.authorize(ctx, name, access.Read) {
		return
	}
	st, err := s.eng.Stream(name)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	t, ok := st.EventType(p.Type)
	if !ok {
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "stream %s has no definition of event type %q (PUT one to /%s/%s:{type})", name, p.Type, name.Account, name.Name))
		return
	}
	if p.Suffix == "ts" {
		ctx.SetContentType("application/typescript; charset=utf-8")
		ctx.SetBodyString(jtd.TypeScript(p.Type, t.Schema))
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(append(append(ctx.Response.Body()[:0], t.JTD...), '\n'))
}

// streamTypes renders a stream's typed rows for the encoders.
type streamTypes struct{ st *engine.Stream }

// Appender implements encode.TypedRows.
func (t streamTypes) Appender(rec arrow.RecordBatch, event string) encode.ValueAppender {
	et, ok := t.st.EventType(event)
	if !ok {
		return nil
	}
	return encode.ValueAppender(jtdarrow.ObjectAppender(et.Read, rec))
}
