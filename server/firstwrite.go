package server

import (
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/jtd"
	"github.com/ducktail/ducktail/server/path"
)

// parseEvents turns the body of an event POST into what is appended: the
// parts of a bulk push or the rows of a CSV body (evs), or else the one
// event (one), a form checked and, when its type has a definition in
// types (nil: no types), converted to that type's JSON. ev carries the
// request's metadata; its Index goes to the first event.
func parseEvents(types *engine.Stream, media, ct string, body []byte, ev engine.Event) (one engine.Event, evs []engine.Event, err error) {
	switch {
	case isBulk(media):
		if evs, err = parseBulk(ct, body, ev); err != nil {
			return ev, nil, err
		}
		// A part is an event as a single POST's body is: a form part is
		// checked, and typed like one.
		for i := range evs {
			if err := formEvent(types, &evs[i], mediaType(evs[i].ContentType)); err != nil {
				return ev, nil, fmt.Errorf("multipart part %d: %w", i, err)
			}
		}
		evs[0].Index = ev.Index
		return ev, evs, nil
	case media == csvContentType:
		var sch *jtd.Schema
		if types != nil {
			if t, ok := types.EventType(ev.Type); ok {
				sch = t.Schema
			}
		}
		if evs, err = csvEvents(body, ev, sch); err != nil {
			return ev, nil, err
		}
		evs[0].Index = ev.Index
		return ev, evs, nil
	}
	// An untyped urlencoded body is stored as sent, unchecked: curl -d
	// sends any text as one ("Sale: 50% off!"), and nothing reads it as a
	// form. A typed one is parsed into fields (typedForm), which refuses a
	// broken escape.
	if ev.Type == "" {
		if ev.Type = media; media == "" {
			return ev, nil, base.Errorf(base.ErrInvalid, "Content-Type %q has no media type to be the event type, and none is given (:type, Event-Type or event-type)", ct)
		}
		if err := path.ValidateEventType(ev.Type); err != nil {
			return ev, nil, err
		}
	}
	if err := formEvent(types, &ev, media); err != nil {
		return ev, nil, err
	}
	return ev, nil, nil
}

// formEvent checks ev, an event of the given media type, if it is a form
// (an untyped urlencoded one excepted, see parseEvents), and converts it to
// its type's JSON when its type has a definition in types (nil: no types).
func formEvent(types *engine.Stream, ev *engine.Event, media string) error {
	if media != formURLEncoded {
		if err := validateForm(media, ev.ContentType, ev.Data); err != nil {
			return err
		}
	}
	if types != nil {
		return typedForm(types, ev, media)
	}
	return nil
}

// firstWrite makes the stream (or the substream of the factory types) of
// the first write to it, parsed by parseEvents into one or evs, unless its
// append would be refused anyway: an index other than 0, or a typed body
// that fails its factory's type (engine Stream.CheckEvents, the append's
// own check). A stream comes into existence at its first write (SPEC 4.2),
// not at its first attempt: a mistyped first curl used to leave an empty
// stream behind, listed and queryable.
func (s *Server) firstWrite(ctx *fasthttp.RequestCtx, name base.StreamName, sub *path.Arg, types *engine.Stream,
	one engine.Event, evs []engine.Event) (*engine.Stream, error) {
	if evs == nil {
		evs = []engine.Event{one}
	}
	if evs[0].Index > 0 {
		return nil, base.Errorf(base.ErrConflict, "index [%d] is not the stream's next id 0", evs[0].Index)
	}
	if types != nil {
		if err := types.CheckEvents(evs); err != nil {
			return nil, err
		}
	}
	return s.makeStream(ctx, name, sub, types)
}
