package server

import (
	"github.com/valyala/fasthttp"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/jtd"
	"github.com/ducktail/ducktail/server/path"
)

// checkFirstWrite refuses, before anything is created, the first write to
// a stream or substream that does not exist yet when its append would be
// refused anyway: a malformed bulk, CSV or form body (CSV rows and forms of
// a factory's typed event types are converted and checked as they will
// be, and typed bodies validated), or an index other than 0. A stream comes into existence at its first
// write (SPEC 4.2), and a mistyped first curl used to leave an empty stream
// behind, listed and queryable. Writes to existing streams are checked only
// where they are appended; a first write is parsed twice, once here.
func (s *Server) checkFirstWrite(ctx *fasthttp.RequestCtx, name base.StreamName, sub *path.Arg, media, ct string, body []byte, ev engine.Event) error {
	// types is where a new stream's event types come from: its factory's,
	// for a substream; a new plain stream has none.
	var types *engine.Stream
	st, err := s.eng.Stream(name)
	switch {
	case sub == nil && err == nil:
		return nil // exists
	case sub == nil:
	case err != nil:
		return nil // no factory: writeStream says so
	default:
		if _, err := s.eng.Substream(ctx, st, subArg(sub), false); err == nil {
			return nil // exists
		}
		types = st
	}
	if ev.Index > 0 {
		return base.Errorf(base.ErrConflict, "index [%d] is not the stream's next id 0", ev.Index)
	}
	var evs []engine.Event
	switch {
	case isBulk(media):
		if evs, err = parseBulk(ct, body, ev); err != nil {
			return err
		}
	case media == csvContentType:
		var sch *jtd.Schema
		if types != nil {
			if t, ok := types.EventType(ev.Type); ok {
				sch = t.Schema
			}
		}
		if evs, err = csvEvents(body, ev, sch); err != nil {
			return err
		}
	default:
		if err := validateForm(media, ct, body); err != nil {
			return err
		}
		if ev.Type == "" {
			ev.Type = media
		}
		if types != nil {
			if err := typedForm(types, &ev, media); err != nil {
				return err
			}
		}
		evs = []engine.Event{ev}
	}
	if types != nil {
		return types.CheckEvents(evs)
	}
	return nil
}
