package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/wal"
	"github.com/ducktail/ducktail/internal/retype"
)

// kindEvents is the catalog kind of a stream of untyped events.
const kindEvents = "events"

// recEvent is the WAL record kind of untyped events appended together (one
// request: a single event, or a bulk push that is all or nothing). Its body
// is, per event: ts (uvarint), type, content type, data (each a uvarint
// length and bytes). The header's ts is the first event's.
const recEvent byte = 2

// recTypedEvent is recEvent for a request with at least one typed event
// (SPEC 2: its type has a JSON Type Definition): after each event's data
// comes one flag byte, 1 for typed. The body is still the JSON as
// received; replay rebuilds the typed row from it with the type's
// definition.
const recTypedEvent byte = 3

// MaxEventBytes bounds an event's data (SPEC 4.2: 100 KiB).
const MaxEventBytes = 100 << 10

// eventsPayload is the payload of a stream of untyped events (SPEC 2): the
// content type and the bytes of each event as received. _data is nullable:
// it is null in typed rows (their body is in the typed columns), and only
// there.
var eventsPayload = arrow.NewSchema([]arrow.Field{
	{Name: base.ColContentType, Type: arrow.BinaryTypes.String},
	{Name: base.ColData, Type: arrow.BinaryTypes.Binary, Nullable: true},
}, nil)

// MaxTimestamp is the latest _ts an event may be forced to, in unix ms:
// 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write and every
// SQL engine's timestamp type holds. A later one was once accepted and then
// broke SQL: DuckDB's TIMESTAMP counts microseconds in an int64, so a _ts
// past about year 294,247 cannot be converted and every query that brought
// the tail up to date failed.
const MaxTimestamp = 253402300799999

// ParseTimestamp parses a forced timestamp (a Timestamp header or query
// parameter): unix milliseconds from 0 to MaxTimestamp. The error wraps
// base.ErrInvalid.
func ParseTimestamp(v string) (int64, error) {
	ts, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ts < 0 || ts > MaxTimestamp {
		return 0, base.Errorf(base.ErrInvalid, "timestamp %q: want unix milliseconds from 0 to %d (9999-12-31T23:59:59.999Z)", v, int64(MaxTimestamp))
	}
	return ts, nil
}

// Event is one untyped event to append.
type Event struct {
	ContentType string
	Type        string // _event; "" means the content type
	Data        []byte
	// TS forces the event's timestamp (ms) when Forced; it must not be
	// before the stream's last timestamp (a conflict otherwise).
	TS     int64
	Forced bool
	// Index, when >= 0, is the id the event must get: the append is refused
	// as a conflict unless it is exactly the stream's next id (at-most-once
	// sending).
	Index int64
}

// AppendEvent appends one untyped event to st and returns its id once it is
// durable. The data is copied.
func (e *Engine) AppendEvent(ctx context.Context, st *Stream, ev Event) (int64, error) {
	evs := [1]Event{ev}
	return e.appendEvents(ctx, st, evs[:])
}

// AppendEvents appends events to st in order, all or nothing (one WAL
// record), and returns their ids once they are durable. Only the first
// event's Index is checked (at-most-once sending of the whole request);
// every forced timestamp must be at least the one before it. The data is
// copied.
func (e *Engine) AppendEvents(ctx context.Context, st *Stream, evs []Event) ([]int64, error) {
	first, err := e.appendEvents(ctx, st, evs)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(evs))
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return ids, nil
}

// smallBody is the size of the stack buffer a request's WAL body is
// encoded into when it fits (a typical single event), before it is copied
// into the arena.
const smallBody = 1 << 10

// appendEvents is AppendEvents, returning the first id.
func (e *Engine) appendEvents(ctx context.Context, st *Stream, evs []Event) (int64, error) {
	if st.IsTopic() {
		return 0, base.Errorf(base.ErrUnsupported, "stream %s is a topic: send it Arrow IPC batches (POST /ingest/{token})", st.label)
	}
	if len(evs) == 0 {
		return 0, base.Errorf(base.ErrInvalid, "no events to append")
	}
	size := 0
	for i := range evs {
		if len(evs[i].Data) > MaxEventBytes {
			return 0, base.Errorf(base.ErrTooLarge, "event %d: data is %d bytes, over the limit of %d", i, len(evs[i].Data), MaxEventBytes)
		}
		// Both are utf8 columns: invalid UTF-8 there would make the
		// stream's segments unreadable to DuckDB (and every query of it
		// fail), for good once flushed.
		if !utf8.ValidString(evs[i].ContentType) {
			return 0, base.Errorf(base.ErrInvalid, "event %d: Content-Type %q is not valid UTF-8", i, evs[i].ContentType)
		}
		if !utf8.ValidString(evs[i].Type) {
			return 0, base.Errorf(base.ErrInvalid, "event %d: event type %q is not valid UTF-8", i, evs[i].Type)
		}
		if evs[i].Type == "" {
			evs[i].Type = evs[i].ContentType
		}
		size += len(evs[i].Data) + len(evs[i].Type) + len(evs[i].ContentType) + 3*binary.MaxVarintLen64
	}
	if err := e.writable(int64(size)); err != nil {
		return 0, err
	}
	// Typed events are validated and built before anything is logged: all
	// or nothing.
	typed, err := e.buildTypedEvents(st, evs)
	if err != nil {
		return 0, err
	}
	if typed != nil {
		defer typed.release()
	}
	if err := st.admit(int64(len(evs)), int64(size), e.opts.Now()); err != nil {
		return 0, err
	}
	kind := recEvent
	if typed != nil {
		kind = recTypedEvent
	}
	// The body bound: each event's ts, and its typed flag.
	bound := size + len(evs)*(binary.MaxVarintLen64+1)
	var small [smallBody]byte
	body := small[:0]
	if bound > len(small) {
		body = make([]byte, 0, bound)
	}
	var runBuf [1]eventRun
	var hdr [256]byte

	st.mu.Lock()
	if first := evs[0].Index; first >= 0 && first != st.nextID {
		next := st.nextID
		st.mu.Unlock()
		return 0, base.Errorf(base.ErrConflict, "index [%d] is not the stream's next id %d", first, next)
	}
	// Timestamps, checked before anything is logged: all or nothing.
	now := nowMs(e.opts.Now())
	last := st.lastTS
	for i := range evs {
		if evs[i].Forced && (evs[i].TS < 0 || evs[i].TS > MaxTimestamp) {
			st.mu.Unlock()
			return 0, base.Errorf(base.ErrInvalid, "event %d: timestamp %d is not between 0 and %d (9999-12-31T23:59:59.999Z)", i, evs[i].TS, int64(MaxTimestamp))
		}
		if evs[i].Forced && evs[i].TS < last {
			st.mu.Unlock()
			return 0, base.Errorf(base.ErrConflict, "event %d: timestamp %d is before the stream's last timestamp %d", i, evs[i].TS, last)
		}
		last = eventTS(&evs[i], now, last)
	}
	last = st.lastTS
	for i := range evs {
		last = eventTS(&evs[i], now, last)
		body = appendEvent(body, last, evs[i].Type, evs[i].ContentType, evs[i].Data)
		if typed != nil {
			body = append(body, typed.flag(i))
		}
	}
	cp, ch := e.arena.copyIn(body)
	runs, err := decodeEvents(runBuf[:0], cp, kind, typed.take, evs[0].Type)
	if err != nil {
		st.mu.Unlock()
		ch.release()
		return 0, err
	}
	r := walRecord{kind: kind, name: st.label, firstID: st.nextID, rows: int64(len(evs)), ts: runs[0].ts, event: evs[0].Type}
	pos, err := e.log.AppendParts(r.appendHeader(hdr[:0]), cp)
	if err != nil {
		st.mu.Unlock()
		releaseRuns(runs)
		ch.release()
		return 0, err
	}
	first := st.nextID
	e.pushEventsLocked(st, runs, ch, int64(len(cp)), first, pos)
	st.mu.Unlock()

	if err := e.log.Wait(ctx, pos); err != nil {
		return 0, err
	}
	n := int64(len(evs))
	e.acknowledged(st, first+n, n, int64(size))
	return first, nil
}

// eventTS is the _ts ev gets after an event of _ts last, at now (ms).
func eventTS(ev *Event, now, last int64) int64 {
	if ev.Forced {
		return ev.TS
	}
	return max(now, last)
}

func appendEvent(dst []byte, ts int64, typ, contentType string, data []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(ts))
	dst = binary.AppendUvarint(dst, uint64(len(typ)))
	dst = append(dst, typ...)
	dst = binary.AppendUvarint(dst, uint64(len(contentType)))
	dst = append(dst, contentType...)
	dst = binary.AppendUvarint(dst, uint64(len(data)))
	return append(dst, data...)
}

// eventRun is a run of consecutive events of one request with the same ts,
// type and schema (a bulk push, or CSV rows): it becomes one batch rather
// than a batch per event, so there are fewer batches for every reader,
// snapshot and flush.
type eventRun struct {
	n   int64
	ts  int64
	typ string
	et  *eventType // the type of a typed run, else nil
	// raw is an untyped run's events as logged (see rawevents.go); flags
	// says whether each is followed by a typed flag byte.
	raw   []byte
	flags bool
	// recs are a typed run's rows, one record per event.
	recs []arrow.RecordBatch
}

// typedRows gives the typed row of event i of a record, or nil for an
// untyped one; data is the event's logged body.
type typedRows func(i int, typ string, data []byte) (arrow.RecordBatch, *eventType)

// decodeEvents splits body, a recEvent or recTypedEvent body in the arena,
// into runs (appended to dst): untyped runs keep their events in the raw
// form, typed runs get the records typed gives. hint is a type name the
// events probably have: their type is then that string rather than a copy.
// A malformed body (only possible from a damaged log) is an error.
func decodeEvents(dst []eventRun, body []byte, kind byte, typed typedRows, hint string) ([]eventRun, error) {
	runs := dst
	flags := kind == recTypedEvent
	var ev rawEvent
	b := body
	for i := 0; len(b) > 0; i++ {
		start := len(body) - len(b)
		rest, ok := ev.next(b, flags)
		if !ok {
			releaseRuns(runs)
			return dst[:0], fmt.Errorf("bad event %d", i)
		}
		if ev.flag > 1 {
			releaseRuns(runs)
			return dst[:0], fmt.Errorf("bad event %d: typed flag", i)
		}
		b = rest
		ts := int64(ev.ts)
		var typ string
		switch {
		case string(ev.typ) == hint:
			typ = hint
		case len(runs) > 0 && string(ev.typ) == runs[len(runs)-1].typ:
			typ = runs[len(runs)-1].typ
		default:
			typ = string(ev.typ)
		}
		var rec arrow.RecordBatch
		var et *eventType
		if ev.flag == 1 && typed != nil {
			rec, et = typed(i, typ, ev.data)
		}
		if k := len(runs) - 1; k >= 0 && runs[k].ts == ts && runs[k].typ == typ && runs[k].et == et &&
			(rec == nil) == (runs[k].recs == nil) {
			runs[k].n++
			if rec != nil {
				runs[k].recs = append(runs[k].recs, rec)
			} else {
				// The run's raw events end where this one starts.
				runs[k].raw = body[start-len(runs[k].raw) : len(body)-len(b)]
			}
			continue
		}
		run := eventRun{n: 1, ts: ts, typ: typ, et: et, flags: flags}
		if rec != nil {
			run.recs = []arrow.RecordBatch{rec}
		} else {
			run.raw = body[start : len(body)-len(b)]
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// releaseRuns drops the typed records of runs not pushed.
func releaseRuns(runs []eventRun) {
	for _, r := range runs {
		for _, rec := range r.recs {
			rec.Release()
		}
	}
}

// pushEventsLocked is pushLocked for events: a batch per run, ids from
// first on. The batches share the arena chunk ch holding the logged body
// (size bytes, charged to the first batch); it takes over the caller's
// reference to ch and the runs' records.
// REQUIRES: st.mu held.
func (e *Engine) pushEventsLocked(st *Stream, runs []eventRun, ch *chunk, size, first int64, pos wal.Pos) {
	now := e.opts.Now()
	id := first
	push := func(b *Batch) {
		b.FirstID, b.Sub, b.walPos, b.arrived = id, st.sub, pos, now
		b.chunk, b.budget = ch, &e.bufBytes
		if id == first {
			b.Bytes = size // the batches share one arena allocation
		} else {
			ch.refs.Add(1)
		}
		b.refs.Store(1)
		st.batches = append(st.batches, b)
		id += b.Rows
	}
	for i := range runs {
		r := &runs[i]
		if r.recs == nil {
			push(&Batch{Rows: r.n, TS: r.ts, Event: r.typ, stored: st.stored, flushed: st.flushed, raw: r.raw, flags: r.flags})
			continue
		}
		stored, flushed := st.stored, st.flushed
		if r.et != nil {
			stored, flushed = r.et.stored, r.et.flushed
		}
		recs := r.recs
		if len(recs) > 1 {
			// On error (cannot happen: one type, one schema), a batch per event.
			if merged, err := retype.Concat(recs, e.mem); err == nil {
				for _, rec := range recs {
					rec.Release()
				}
				recs = []arrow.RecordBatch{merged}
			}
		}
		for _, rec := range recs {
			push(&Batch{Rows: rec.NumRows(), TS: r.ts, Event: r.typ, stored: stored, flushed: flushed, payload: rec})
		}
	}
	e.bufBytes.Add(size)
	st.bufRows += id - first
	st.bufBytes += size
	st.nextID = id
	st.lastTS = runs[len(runs)-1].ts
}

// replayEvent is replayRecord for a recEvent or recTypedEvent record.
func (e *Engine) replayEvent(st *Stream, pos wal.Pos, r *walRecord) error {
	if st.IsTopic() {
		return base.Errorf(base.ErrCorrupt, "engine: wal: event record at %d:%d for topic %s", pos.File, pos.Offset, st.label)
	}
	cp, ch := e.arena.copyIn(r.body)
	runs, err := decodeEvents(nil, cp, r.kind, func(_ int, typ string, data []byte) (arrow.RecordBatch, *eventType) {
		return st.replayTyped(typ, data, e.mem)
	}, r.event)
	if err != nil {
		ch.release()
		return base.Errorf(base.ErrCorrupt, "engine: wal: event record at %d:%d: %w", pos.File, pos.Offset, err)
	}
	n := int64(0)
	for _, run := range runs {
		n += run.n
	}
	if n != r.rows || n == 0 {
		releaseRuns(runs)
		ch.release()
		return base.Errorf(base.ErrCorrupt, "engine: wal: event record at %d:%d has %d events, header says %d",
			pos.File, pos.Offset, n, r.rows)
	}
	st.mu.Lock()
	e.pushEventsLocked(st, runs, ch, int64(len(cp)), r.firstID, pos)
	st.durable = st.nextID
	st.mu.Unlock()
	return nil
}

// oneValue is a one-row utf8 or binary array over v (no copy).
func oneValue(t arrow.DataType, v []byte) arrow.Array {
	offsets := int32Bytes([]int32{0, int32(len(v))})
	data := array.NewData(t, 1, []*memory.Buffer{nil, memory.NewBufferBytes(offsets), memory.NewBufferBytes(v)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// typedEvents are the typed rows of one request, built before it is
// logged: rows[i] is event i's, nil for an untyped event.
type typedEvents struct {
	rows  []arrow.RecordBatch
	types []*eventType
}

// buildTypedEvents validates and builds the events whose type has a
// definition, or returns nil when none has. Errors name the event when
// there are several.
func (e *Engine) buildTypedEvents(st *Stream, evs []Event) (*typedEvents, error) {
	var t *typedEvents
	err := eachTyped(st, evs, func(i int, et *eventType) error {
		rec, err := et.buildTyped(evs[i].ContentType, evs[i].Data, e.mem)
		if err != nil {
			return err
		}
		if t == nil {
			t = &typedEvents{rows: make([]arrow.RecordBatch, len(evs)), types: make([]*eventType, len(evs))}
		}
		t.rows[i], t.types[i] = rec, et
		return nil
	})
	if err != nil {
		if t != nil {
			t.release()
		}
		return nil, err
	}
	return t, nil
}

// flag is event i's typed flag in a recTypedEvent body.
func (t *typedEvents) flag(i int) byte {
	if t.rows[i] != nil {
		return 1
	}
	return 0
}

// take hands event i's row over to the caller (a typedRows function).
func (t *typedEvents) take(i int, _ string, _ []byte) (arrow.RecordBatch, *eventType) {
	if t == nil {
		return nil, nil
	}
	rec, et := t.rows[i], t.types[i]
	t.rows[i] = nil
	return rec, et
}

// release drops the rows nobody took.
func (t *typedEvents) release() {
	for _, r := range t.rows {
		if r != nil {
			r.Release()
		}
	}
}
