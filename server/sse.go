package server

import (
	"bufio"
	"errors"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/server/encode"
	"github.com/valyala/fasthttp"
)

// SSE limits: a subscriber more than maxBacklog events behind is dropped
// (it can resume with Last-Event-ID); a comment keeps idle connections open.
const (
	maxBacklog   = 100_000
	sseKeepAlive = 15 * time.Second
)

// subscribe serves a live subscription (SPEC 4.2, Accept: text/event-stream):
// each new event of st within r (its types, and ids from r.From on) is sent
// as "id: N" and "event: type", with "data: {...}" when withData. It starts
// after Last-Event-ID when the client sends one, else at the stream's end
// unless r.From says otherwise. Writers never wait for subscribers: they only
// signal Stream.Changed, and each subscriber reads snapshots at its pace.
func (s *Server) subscribe(ctx *fasthttp.RequestCtx, st *engine.Stream, r query.Range, withData bool, explicitFrom bool) {
	start := st.Stats().NextID
	if explicitFrom {
		start = r.From
	}
	if v := ctx.Request.Header.Peek("Last-Event-ID"); len(v) > 0 {
		if id, err := strconv.ParseInt(string(v), 10, 64); err == nil && id >= 0 {
			start = id + 1
		}
	}
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	store := s.eng.Store()
	closing := s.closing
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		var enc *encode.EventEncoder
		if withData {
			var err error
			if enc, err = encode.NewEventEncoder(st.Stored()); err != nil {
				return
			}
			enc.SetTyped(streamTypes{st})
		}
		next := start
		var line []byte
		keepAlive := time.NewTicker(sseKeepAlive)
		defer keepAlive.Stop()
		// A retry hint for EventSource, and a first flush so the client
		// knows the subscription is live.
		w.WriteString("retry: 1000\n\n")
		if w.Flush() != nil {
			return
		}
		for {
			changed := st.Changed()
			snap := st.Snapshot()
			if snap.NextID-next > maxBacklog {
				snap.Release()
				w.WriteString(": dropped: this subscriber is more than 100000 events behind; resume with Last-Event-ID\n\n")
				w.Flush()
				return
			}
			if snap.NextID > next {
				rr := r
				rr.From, rr.To, rr.Limit = next, snap.NextID, 0
				err := query.Read(closingCtx{closing}, store, snap, rr, func(rec arrow.RecordBatch) error {
					ids := rec.Column(0).(*array.Int64)
					events := rec.Column(2).(*array.String)
					if enc != nil {
						if err := enc.Bind(rec); err != nil {
							return err
						}
					}
					for i := 0; i < int(rec.NumRows()); i++ {
						line = append(line[:0], "id: "...)
						line = strconv.AppendInt(line, ids.Value(i), 10)
						line = append(line, "\nevent: "...)
						line = append(line, events.Value(i)...)
						if enc != nil {
							line = append(line, "\ndata: "...)
							line = enc.AppendJSON(line, i)
						}
						line = append(line, "\n\n"...)
						if _, err := w.Write(line); err != nil {
							return err
						}
					}
					return nil
				})
				next = snap.NextID
				snap.Release()
				if err != nil || w.Flush() != nil {
					return
				}
			} else {
				snap.Release()
			}
			select {
			case <-changed:
			case <-closing:
				return
			case <-keepAlive.C:
				w.WriteString(": keep-alive\n\n")
				if w.Flush() != nil {
					return
				}
			}
		}
	})
}

// closingCtx is the context of a subscription's reads: done when the
// server shuts down.
type closingCtx struct{ done <-chan struct{} }

func (c closingCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c closingCtx) Done() <-chan struct{}       { return c.done }
func (c closingCtx) Value(any) any               { return nil }
func (c closingCtx) Err() error {
	select {
	case <-c.done:
		return errClosing
	default:
		return nil
	}
}

// errClosing ends a subscription's read when the server shuts down.
var errClosing = errors.New("server: shutting down")
