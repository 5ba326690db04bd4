package server

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/server/access"
	"github.com/ducktail/ducktail/server/encode"
	"github.com/ducktail/ducktail/server/path"
	"github.com/valyala/fasthttp"
)

// SSE limits: a live subscriber more than maxBacklog events behind is
// dropped (it can resume with Last-Event-ID, from any distance: catchUp
// reads catchUpChunk events per snapshot); a comment keeps idle
// connections open. The feed's ring size is in feed.go.
const (
	maxBacklog   = 100_000
	catchUpChunk = 10_000
	sseKeepAlive = 15 * time.Second
)

// subscribe serves a live subscription (SPEC 4.2, Accept: text/event-stream):
// each new event of st within r (its types, ids and timestamps) is sent as
// "id: N" and "event: type", with "data: {...}" when withData. It starts
// after Last-Event-ID when the client sends one, else at the stream's end
// unless r.From says otherwise. Live events come from the stream's feed
// (feed.go), read and rendered once for all subscribers; a subscriber
// behind the feed's ring reads the stream itself until it reaches it.
// Writers never wait for subscribers: they only signal Stream.Changed.
func (s *Server) subscribe(ctx *fasthttp.RequestCtx, st *engine.Stream, r query.Range, withData bool, explicitFrom bool, g liveGrant) {
	snap := st.Snapshot()
	next, seenTS := snap.NextID, lastDurableTS(snap)
	snap.Release()
	start := next
	if explicitFrom {
		start = r.From
	}
	if v := ctx.Request.Header.Peek("Last-Event-ID"); len(v) > 0 {
		// Only an id this stream sent resumes it: anything else would
		// wait at a position no event of the stream had, silently
		// skipping the events before it, as a Kafka consumer with an
		// offset out of range is refused.
		id, err := strconv.ParseInt(string(v), 10, 64)
		switch {
		case err != nil || id < 0:
			s.writeError(ctx, base.Errorf(base.ErrInvalid, "Last-Event-ID %q: want the id of an event of the stream (an integer from 0)", v[:min(len(v), 64)]))
			return
		case id >= next && next == 0:
			s.writeError(ctx, base.Errorf(base.ErrInvalid, "Last-Event-ID %d: the stream holds no events yet", id))
			return
		case id >= next:
			s.writeError(ctx, base.Errorf(base.ErrInvalid, "Last-Event-ID %d is past the stream's end: its last event is %d", id, next-1))
			return
		}
		start = id + 1
	}
	if start < next {
		seenTS = math.MinInt64 // the events from start on are still to be seen
	}
	lim := s.opts.feedLimits.withDefaults()
	sub := &subscriber{s: s, st: st, r: r, withData: withData, pos: start, seenTS: seenTS,
		backlog: lim.backlog, chunk: lim.chunk, grant: g}
	if sub.ended() {
		// Nothing of the range is left: 204 is what tells an EventSource
		// not to reconnect.
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	sseHeaders(ctx)
	client := clientOf(ctx, s.opts.writeTimeout)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		// A retry hint for EventSource, and a first flush so the client
		// knows the subscription is live.
		w.WriteString("retry: 1000\n\n")
		if w.Flush() != nil {
			return
		}
		f := s.acquireFeed(st)
		if f == nil {
			return // shutting down
		}
		defer s.releaseFeed(f)
		sub.f, sub.client = f, client
		sub.run(w)
	})
}

// subscriber is one live subscription's state.
type subscriber struct {
	s        *Server
	st       *engine.Stream
	f        *feed
	r        query.Range
	withData bool
	pos      int64 // the next id to consider
	seenTS   int64 // no event from pos on has a lower _ts
	backlog  int64
	chunk    int64
	live     bool // has read from the feed's ring: from then on, falling backlog behind drops it
	client   client
	grant    liveGrant
	frames   []frame              // scratch for pulls
	enc      *encode.EventEncoder // for direct reads with data
	line     []byte
}

func (sub *subscriber) run(w *bufio.Writer) {
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	closing := sub.s.closing
	for {
		sub.client.extend()
		if !sub.granted(w) {
			return
		}
		p := sub.f.pull(sub.pos, sub.frames)
		sub.frames = p.frames
		if p.err != nil {
			return
		}
		if p.behind {
			// Older than the ring: read the stream itself, then look again.
			if !sub.catchUp(w) {
				return
			}
			if sub.ended() {
				sub.end(w)
				return
			}
			continue
		}
		if sub.live && p.next-sub.pos > sub.backlog {
			sub.drop(w)
			return
		}
		sub.live = true
		n := 0
		for k := range p.frames {
			fr := &p.frames[k]
			if !sub.matches(fr.id, fr.ts, fr.typ) {
				continue
			}
			if sub.withData {
				w.Write(fr.buf)
			} else {
				w.Write(fr.buf[:fr.head])
				w.WriteString(noData)
			}
			n++
		}
		if k := len(p.frames); k > 0 {
			sub.seenTS = max(sub.seenTS, p.frames[k-1].ts)
		}
		clear(sub.frames) // do not pin evicted frames
		sub.pos = p.next
		if sub.ended() {
			sub.end(w)
			return
		}
		if n > 0 && w.Flush() != nil {
			return
		}
		select {
		case <-p.wake:
		case <-closing:
			return
		case <-sub.client.gone:
			return
		case <-sub.grant.changed: // checked at the top
		case <-keepAlive.C:
			w.WriteString(": keep-alive\n\n")
			if w.Flush() != nil {
				return
			}
		}
	}
}

// liveGrant is the right to read that a subscription was opened with, to be
// checked again whenever access changes: a deleted key or a stream no
// longer public ends the subscriptions it opened.
type liveGrant struct {
	acc     *access.Store   // nil: nothing to check again
	changed <-chan struct{} // acc.Changed
	check   func() error
}

// recheck renews g's channel, then checks the right again.
func (g *liveGrant) recheck() error {
	g.changed = g.acc.Changed()
	return g.check()
}

// readGrant is the read right the request was authorised with, as a
// liveGrant; changed is acc.Changed as it was before that check, so that
// the subscription misses no change made since.
func (s *Server) readGrant(ctx *fasthttp.RequestCtx, p *path.Path, name base.StreamName, changed <-chan struct{}) liveGrant {
	acc := s.opts.Access
	if acc == nil {
		return liveGrant{}
	}
	key, hasKey := bearer(ctx)
	key, account := bytes.Clone(key), subAccount(p)
	return liveGrant{acc: acc, changed: changed,
		check: func() error { return s.grant(key, hasKey, account, name, access.Read) }}
}

// client is what a subscription knows of its client's connection.
type client struct {
	gone    <-chan struct{} // closed once the client has gone; nil if that cannot be known
	conn    net.Conn        // for write deadlines; nil under net/http
	timeout time.Duration   // each write's
}

// clientGoneKey is the user value under which ServeHTTP passes its
// request's Done channel.
type clientGoneKey struct{}

// clientGone returns a channel closed once the client of the request being
// answered has gone away, and the fasthttp connection it watches (nil under
// net/http, or when it cannot be known, and then the channel is nil too).
// Under net/http the request's context says so; over fasthttp a
// background read of the connection (lingerConn.watchGone), which then
// closes after the answer. Long answers use it (live subscriptions, SQL),
// so that one whose client left stops at once, not at its next write.
func clientGone(ctx *fasthttp.RequestCtx) (<-chan struct{}, *lingerConn) {
	if gone, ok := ctx.UserValue(clientGoneKey{}).(<-chan struct{}); ok {
		return gone, nil
	}
	lc, ok := ctx.Conn().(*lingerConn)
	if !ok {
		return nil, nil
	}
	ctx.SetConnectionClose()
	return lc.watchGone(), lc
}

// clientOf is a subscription's client, watched by clientGone.
func clientOf(ctx *fasthttp.RequestCtx, timeout time.Duration) client {
	gone, lc := clientGone(ctx)
	if lc == nil {
		return client{gone: gone}
	}
	return client{gone: gone, conn: lc, timeout: timeout}
}

// extend moves the connection's write deadline on: fasthttp sets one per
// answer (Options.writeTimeout), which a subscription outlives, so each of
// its writes gets the time a whole answer would.
func (c client) extend() {
	if c.conn != nil {
		c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	}
}

// granted checks the subscription's right again if access has changed
// since it last did; a right gone ends it with a comment saying why. Being
// checked before every pull, no event appended after a key was deleted
// reaches its subscriptions.
func (sub *subscriber) granted(w *bufio.Writer) bool {
	select {
	case <-sub.grant.changed:
	default:
		return true
	}
	err := sub.grant.recheck()
	if err == nil {
		return true
	}
	// EventSource reconnects, and gets the 401 or 403 itself.
	w.WriteString(": access revoked: " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n\n")
	w.Flush()
	return false
}

// ended reports whether no event from sub.pos on can be in the range: its
// ids end before pos, or its timestamps before seenTS (a stream's _ts never
// decreases). A subscription without to or until never ends (SPEC 4.2:
// without a range it is live); one with them is a read of the range, live
// until the range is complete.
func (sub *subscriber) ended() bool {
	return sub.pos >= sub.r.To || sub.seenTS >= sub.r.Until
}

// end finishes a subscription whose range is complete. The id line moves
// an EventSource's lastEventId past what it skipped, so that its reconnect
// starts at the end and gets the 204 that stops it.
func (sub *subscriber) end(w *bufio.Writer) {
	if end := min(sub.pos, sub.r.To); end > 0 {
		w.WriteString("id: ")
		w.Write(strconv.AppendInt(sub.line[:0], end-1, 10))
		w.WriteString("\n\n")
	}
	w.Flush()
}

// matches reports whether the event is within the subscription's selectors.
func (sub *subscriber) matches(id, ts int64, typ string) bool {
	r := &sub.r
	return id >= r.From && id < r.To && ts >= r.Since && ts < r.Until &&
		(len(r.Types) == 0 || slices.Contains(r.Types, typ))
}

// drop ends a subscriber too far behind, saying so.
func (sub *subscriber) drop(w *bufio.Writer) {
	w.WriteString(": dropped: this subscriber is more than " + strconv.FormatInt(sub.backlog, 10) +
		" events behind; resume with Last-Event-ID\n\n")
	w.Flush()
}

// catchUp sends the events from sub.pos on, at most sub.chunk of them,
// read from a snapshot as a listing does; false ends the subscription.
// A subscriber that has not yet been live (one resuming with Last-Event-ID,
// or starting at from) reads any distance behind at its own pace, one chunk
// per snapshot so that none is held long; a live one that fell behind the
// ring and more than backlog events behind is dropped, and may resume.
func (sub *subscriber) catchUp(w *bufio.Writer) bool {
	snap := sub.st.Snapshot()
	defer snap.Release()
	if sub.live && snap.NextID-sub.pos > sub.backlog {
		sub.drop(w)
		return false
	}
	if snap.NextID <= sub.pos {
		return true
	}
	if sub.withData {
		stored := sub.st.Stored()
		if sub.enc == nil {
			enc, err := encode.NewEventEncoder(stored)
			if err != nil {
				return false
			}
			enc.SetTyped(streamTypes{sub.st})
			sub.enc = enc
		}
	}
	rr := sub.r
	end := min(snap.NextID, sub.r.To, sub.pos+sub.chunk)
	rr.From, rr.To, rr.Limit = max(sub.pos, sub.r.From), end, 0
	err := sub.s.reads.Read(closingCtx{sub.s.closing}, snap, rr, func(rec arrow.RecordBatch) error {
		ids := rec.Column(0).(*array.Int64)
		events := rec.Column(2).(*array.String)
		var enc *encode.EventEncoder
		if sub.withData {
			enc = sub.enc
			if err := enc.Bind(rec); err != nil {
				return err
			}
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			sub.line, _ = appendFrame(sub.line[:0], ids.Value(i), events.Value(i), enc, i)
			if _, err := w.Write(sub.line); err != nil {
				return err
			}
		}
		return nil
	})
	sub.pos = end
	if end == snap.NextID {
		sub.seenTS = max(sub.seenTS, lastDurableTS(snap))
	}
	return err == nil && w.Flush() == nil
}

// lastDurableTS is the largest _ts of snap's events (those below NextID).
func lastDurableTS(snap *engine.Snapshot) int64 {
	if n := len(snap.Tail); n > 0 {
		return snap.Tail[n-1].TS
	}
	return snap.Manifest.LastTS()
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

// sseHeaders sets the headers of a subscription's answer (also HEAD's).
func sseHeaders(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	// Proxies such as nginx would otherwise buffer the events.
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
}
