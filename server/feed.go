package server

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/server/encode"
)

// Feed limits (docs/sse.md): a feed keeps the frames of a stream's latest
// events in memory for its subscribers, at most ringEvents of them and about
// ringBytes of frames, whichever bound is reached first. A subscriber
// further behind reads the stream itself until it reaches the ring.
const (
	ringEvents = 4096
	ringBytes  = 8 << 20
)

// feedLimits bound feeds and subscribers; zero fields take the defaults.
// Tests shrink them to reach the edges cheaply.
type feedLimits struct {
	events  int   // frames kept per feed
	bytes   int   // frame bytes kept per feed
	backlog int64 // a live subscriber further behind is dropped
	chunk   int64 // events a subscriber behind the ring reads per snapshot
}

func (l feedLimits) withDefaults() feedLimits {
	if l.events <= 0 {
		l.events = ringEvents
	}
	if l.bytes <= 0 {
		l.bytes = ringBytes
	}
	if l.backlog <= 0 {
		l.backlog = maxBacklog
	}
	if l.chunk <= 0 {
		l.chunk = catchUpChunk
	}
	return l
}

// feedSet holds the server's feeds, one per (sub)stream with subscribers.
type feedSet struct {
	mu      sync.Mutex
	feeds   map[*engine.Stream]*feed // REQUIRES: mu
	closed  bool                     // REQUIRES: mu. Set by wait: no new feeds.
	wg      sync.WaitGroup           // the feed goroutines
	running atomic.Int64             // feed goroutines alive, for tests
}

// acquire returns st's feed, starting it if it has none, with one more
// subscriber counted; nil once the server is shutting down. The caller must
// release it.
func (s *Server) acquireFeed(st *engine.Stream) *feed {
	fs := &s.feeds
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.closed {
		return nil
	}
	select {
	case <-s.closing:
		return nil
	default:
	}
	if f := fs.feeds[st]; f != nil {
		f.refs++
		return f
	}
	if fs.feeds == nil {
		fs.feeds = make(map[*engine.Stream]*feed)
	}
	// The feed starts at the stream's end: subscribers behind it read the
	// stream directly until they reach it.
	next := st.Stats().NextID
	f := &feed{
		s:      s,
		st:     st,
		limits: s.opts.feedLimits.withDefaults(),
		refs:   1,
		stop:   make(chan struct{}),
		start:  next,
		next:   next,
		wake:   make(chan struct{}),
	}
	fs.feeds[st] = f
	fs.wg.Add(1)
	fs.running.Add(1)
	go f.run()
	return f
}

// releaseFeed drops a subscriber; the last one stops the feed.
func (s *Server) releaseFeed(f *feed) {
	fs := &s.feeds
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f.refs--
	if f.refs > 0 {
		return
	}
	if fs.feeds[f.st] == f {
		delete(fs.feeds, f.st)
	}
	close(f.stop)
}

// waitFeeds stops new feeds and waits for the running ones to end, which
// they do once s.closing is closed.
func (s *Server) waitFeeds(ctx context.Context) error {
	fs := &s.feeds
	fs.mu.Lock()
	fs.closed = true
	fs.mu.Unlock()
	done := make(chan struct{})
	go func() {
		fs.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("server: waiting for SSE feeds: %w", ctx.Err())
	}
}

// feed reads a stream's new events once for all of its subscribers: one
// goroutine waits on Stream.Changed, reads the new events from one snapshot,
// renders each event's SSE frame once and keeps the frames in a bounded
// ring, then wakes every subscriber. Subscribers pull the frames they want
// and write them to their own connections: the feed never touches a socket,
// so a stuck subscriber holds up nobody but itself.
type feed struct {
	s      *Server
	st     *engine.Stream
	limits feedLimits
	refs   int           // REQUIRES: s.feeds.mu. Subscribers holding the feed.
	stop   chan struct{} // closed by the last subscriber to leave

	// Owned by the feed goroutine.
	enc       *encode.EventEncoder
	encSchema *arrow.Schema // the stored schema enc was made for
	lastType  string        // the last event type seen, to share its string

	mu sync.RWMutex
	// The ring: frames[off:] hold, in id order, every event with an id in
	// [start, next) (ids are dense but for trimmed ones).
	frames []frame // REQUIRES: mu
	off    int     // REQUIRES: mu
	bytes  int     // REQUIRES: mu. Bytes of the frames in the ring.
	start  int64   // REQUIRES: mu
	next   int64   // REQUIRES: mu. The feed has read every id below it.
	// wake is closed (and replaced) when frames are added, and when the feed
	// ends; err then says why it ended.
	wake chan struct{} // REQUIRES: mu
	err  error         // REQUIRES: mu
}

// frame is one event's SSE frame: "id: N\nevent: T\n" (buf[:head]), then
// "data: {...}\n" and the blank line. Without data a frame is buf[:head]
// and noData. buf is never modified once in the ring.
type frame struct {
	id, ts int64
	typ    string
	buf    []byte
	head   int
}

// errFeedStopped ends the subscriptions of a feed that stopped without a
// read error: the server is shutting down.
var errFeedStopped = fmt.Errorf("server: SSE feed stopped")

func (f *feed) run() {
	defer func() {
		f.s.feeds.running.Add(-1)
		f.s.feeds.wg.Done()
	}()
	for {
		changed := f.st.Changed()
		if err := f.advance(); err != nil {
			f.s.log.Warn("SSE feed: reading new events", "stream", f.st.Label(), "err", err)
			f.end(err)
			return
		}
		select {
		case <-changed:
		case <-f.stop:
			f.end(errFeedStopped)
			return
		case <-f.s.closing:
			f.end(errFeedStopped)
			return
		}
	}
}

// end records why the feed stopped and wakes its subscribers; a feed that
// failed leaves the set, so that the next subscriber starts a fresh one.
func (f *feed) end(err error) {
	f.mu.Lock()
	f.err = err
	close(f.wake)
	f.mu.Unlock()
	fs := &f.s.feeds
	fs.mu.Lock()
	if fs.feeds[f.st] == f {
		delete(fs.feeds, f.st)
	}
	fs.mu.Unlock()
}

// advance reads the events that became visible since the last call, renders
// their frames and publishes them.
func (f *feed) advance() error {
	snap := f.st.Snapshot()
	defer snap.Release()
	f.mu.RLock()
	from := f.next
	f.mu.RUnlock()
	if snap.NextID <= from {
		return nil
	}
	// Only the last ring's worth can be kept: a burst longer than that is
	// not rendered, its readers catch up directly.
	if n := int64(f.limits.events); snap.NextID-from > n {
		from = snap.NextID - n
	}
	if stored := f.st.Stored(); f.enc == nil || stored != f.encSchema {
		// A PUT of an event type grows the stored schema; typed rows are
		// rendered with the definitions current at read time.
		enc, err := encode.NewEventEncoder(stored)
		if err != nil {
			return err
		}
		enc.SetTyped(streamTypes{f.st})
		f.enc, f.encSchema = enc, stored
	}
	r := query.AllRange()
	r.From, r.To = from, snap.NextID
	var fresh []frame
	var ends []int // where each fresh frame ends in buf
	var buf []byte // the frames of this advance, in one allocation
	err := f.s.reads.Read(closingCtx{f.s.closing}, snap, r, func(rec arrow.RecordBatch) error {
		if err := f.enc.Bind(rec); err != nil {
			return err
		}
		ids, ok := rec.Column(0).(*array.Int64)
		if !ok {
			return fmt.Errorf("server: %s is not int64", rec.Schema().Field(0).Name)
		}
		events, ok := rec.Column(2).(*array.String)
		if !ok {
			return fmt.Errorf("server: %s is not utf8", rec.Schema().Field(2).Name)
		}
		ts, err := millis(rec)
		if err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			at := len(buf)
			var head int
			buf, head = appendFrame(buf, ids.Value(i), events.Value(i), f.enc, i)
			fresh = append(fresh, frame{id: ids.Value(i), ts: ts(i), typ: f.intern(events.Value(i)), head: head - at})
			ends = append(ends, len(buf))
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The frames are cut from buf only now: appends may have moved it.
	at := 0
	for k, end := range ends {
		fresh[k].buf = buf[at:end:end]
		at = end
	}
	f.publish(from, snap.NextID, fresh)
	return nil
}

// intern returns typ as a string of its own (the record's string points
// into Arrow memory that is released after the read), shared with the
// previous event's when equal.
func (f *feed) intern(typ string) string {
	if typ != f.lastType {
		f.lastType = strings.Clone(typ)
	}
	return f.lastType
}

// publish adds the frames of the events in [from, next) to the ring, drops
// the oldest past the limits and wakes the subscribers.
func (f *feed) publish(from, next int64, fresh []frame) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if from != f.next {
		// A skipped burst: the ring restarts after it.
		clear(f.frames)
		f.frames, f.off, f.bytes, f.start = f.frames[:0], 0, 0, from
	}
	for _, fr := range fresh {
		f.frames = append(f.frames, fr)
		f.bytes += len(fr.buf)
	}
	f.next = next
	for len(f.frames)-f.off > f.limits.events || (f.bytes > f.limits.bytes && len(f.frames)-f.off > 1) {
		old := &f.frames[f.off]
		f.bytes -= len(old.buf)
		f.start = old.id + 1
		*old = frame{}
		f.off++
	}
	if f.off > 0 && f.off >= len(f.frames)/2 {
		// Compact: the ring's backing array stays within twice its size.
		n := copy(f.frames, f.frames[f.off:])
		clear(f.frames[n:])
		f.frames, f.off = f.frames[:n], 0
	}
	close(f.wake)
	f.wake = make(chan struct{})
}

// pull is what a subscriber at position pos gets from the feed.
type pull struct {
	frames []frame       // the frames with ids ≥ pos (all types)
	next   int64         // the position after them
	wake   chan struct{} // closed when there is more
	behind bool          // pos is before the ring: read the stream directly
	err    error         // the feed ended
}

// pull returns the ring's frames from pos on, appended to buf (only the
// small frame headers are copied; their bytes are shared and immutable).
func (f *feed) pull(pos int64, buf []frame) pull {
	f.mu.RLock()
	defer f.mu.RUnlock()
	p := pull{next: pos, wake: f.wake, err: f.err, frames: buf[:0]}
	if f.err != nil {
		return p
	}
	if pos < f.start {
		p.behind = true
		return p
	}
	ring := f.frames[f.off:]
	k := sort.Search(len(ring), func(i int) bool { return ring[i].id >= pos })
	p.frames = append(p.frames, ring[k:]...)
	p.next = max(pos, f.next)
	return p
}

// noData ends a frame sent without data=true. The empty data field is what
// makes a browser's EventSource dispatch it: the WHATWG algorithm drops an
// event whose data buffer is empty, and an id and event type alone leave it
// so; "data:" adds an empty line, and the listener gets data "" with
// lastEventId set.
const noData = "data:\n\n"

// appendFrame appends the SSE frame of row i ("id", "event", and "data"
// when enc is set, else noData) and returns it with the length of its head.
func appendFrame(dst []byte, id int64, typ string, enc *encode.EventEncoder, i int) ([]byte, int) {
	dst = append(dst, "id: "...)
	dst = strconv.AppendInt(dst, id, 10)
	dst = append(dst, "\nevent: "...)
	dst = append(dst, typ...)
	dst = append(dst, '\n')
	head := len(dst)
	if enc == nil {
		return append(dst, noData...), head
	}
	dst = append(dst, "data: "...)
	dst = enc.AppendJSON(dst, i)
	return append(dst, "\n\n"...), head
}

// millis returns the _ts of rec's rows in epoch milliseconds.
func millis(rec arrow.RecordBatch) (func(int) int64, error) {
	idx := rec.Schema().FieldIndices(base.ColTS)
	if len(idx) == 0 {
		return nil, fmt.Errorf("server: record has no %s column", base.ColTS)
	}
	a, ok := rec.Column(idx[0]).(*array.Timestamp)
	if !ok {
		return nil, fmt.Errorf("server: %s is not a timestamp", base.ColTS)
	}
	vals := a.Values()
	var scale int64 // milliseconds per unit if > 0, units per millisecond if < 0
	switch a.DataType().(*arrow.TimestampType).Unit {
	case arrow.Second:
		scale = 1000
	case arrow.Millisecond:
		scale = 1
	case arrow.Microsecond:
		scale = -1000
	default:
		scale = -1_000_000
	}
	return func(i int) int64 {
		v := int64(vals[i])
		if scale > 0 {
			return v * scale
		}
		q := v / -scale
		if v%-scale != 0 && v < 0 {
			q-- // floor, as the encoders do
		}
		return q
	}, nil
}
