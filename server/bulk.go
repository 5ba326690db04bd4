package server

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"unicode/utf8"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server/path"
)

// maxBulkEvents bounds the parts of one bulk push.
const maxBulkEvents = 10_000

// isBulk reports whether a media type is a bulk push (SPEC 4.2): multipart
// of any subtype but form-data and alternative, which are single events.
func isBulk(media string) bool {
	return strings.HasPrefix(media, "multipart/") && media != "multipart/form-data" && media != "multipart/alternative"
}

// parseBulk splits a multipart body into events, in order. A part's
// Content-Type (default text/plain, RFC 2046), Event-Type and Timestamp
// headers apply to it; def gives the request's type and timestamp for parts
// without their own. Any malformed part fails the whole request.
func parseBulk(contentType string, body []byte, def engine.Event) ([]engine.Event, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "Content-Type %q: %v", contentType, err)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, base.Errorf(base.ErrInvalid, "Content-Type %q has no boundary", contentType)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var evs []engine.Event
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, base.Errorf(base.ErrInvalid, "multipart part %d: %v", len(evs), err)
		}
		if len(evs) == maxBulkEvents {
			return nil, base.Errorf(base.ErrTooLarge, "more than %d events in one bulk push", maxBulkEvents)
		}
		data, err := io.ReadAll(io.LimitReader(part, engine.MaxEventBytes+1))
		if err != nil {
			return nil, base.Errorf(base.ErrInvalid, "multipart part %d: %v", len(evs), err)
		}
		if len(data) > engine.MaxEventBytes {
			return nil, base.Errorf(base.ErrTooLarge, "multipart part %d is over the limit of %d bytes", len(evs), engine.MaxEventBytes)
		}
		ev := engine.Event{ContentType: part.Header.Get("Content-Type"), Data: data, Index: -1,
			Type: def.Type, TS: def.TS, Forced: def.Forced}
		if ev.ContentType == "" {
			ev.ContentType = "text/plain"
		}
		if !utf8.ValidString(ev.ContentType) {
			return nil, base.Errorf(base.ErrInvalid, "multipart part %d: Content-Type %q is not valid UTF-8", len(evs), ev.ContentType)
		}
		if t := strings.TrimSpace(part.Header.Get("Event-Type")); t != "" {
			ev.Type = t
		}
		if ev.Type == "" {
			if ev.Type = mediaType(ev.ContentType); ev.Type == "" {
				return nil, base.Errorf(base.ErrInvalid, "multipart part %d: Content-Type %q has no media type to be the event type, and none is given (Event-Type)", len(evs), ev.ContentType)
			}
		}
		if err := path.ValidateEventType(ev.Type); err != nil {
			return nil, base.Errorf(base.ErrInvalid, "multipart part %d: %w", len(evs), err)
		}
		if v := strings.TrimSpace(part.Header.Get("Timestamp")); v != "" {
			ts, err := engine.ParseTimestamp(v)
			if err != nil {
				return nil, base.Errorf(base.ErrInvalid, "multipart part %d: %w", len(evs), err)
			}
			ev.TS, ev.Forced = ts, true
		}
		evs = append(evs, ev)
	}
	if len(evs) == 0 {
		return nil, base.Errorf(base.ErrInvalid, "bulk push without any part")
	}
	return evs, nil
}

// mediaType is the lower-cased media type of a Content-Type, without
// parameters.
func mediaType(ct string) string {
	if !strings.Contains(ct, ";") {
		// What ParseMediaType returns too, valid or not, without the map
		// it allocates for the parameters.
		return strings.ToLower(strings.TrimSpace(ct))
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
