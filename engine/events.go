package engine

import (
	"context"
	"encoding/binary"
	"fmt"

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
	ids, err := e.AppendEvents(ctx, st, []Event{ev})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// AppendEvents appends events to st in order, all or nothing (one WAL
// record), and returns their ids once they are durable. Only the first
// event's Index is checked (at-most-once sending of the whole request);
// every forced timestamp must be at least the one before it. The data is
// copied.
func (e *Engine) AppendEvents(ctx context.Context, st *Stream, evs []Event) ([]int64, error) {
	if st.IsTopic() {
		return nil, base.Errorf(base.ErrUnsupported, "stream %s is a topic: send it Arrow IPC batches (POST /ingest/{token})", st.label)
	}
	if len(evs) == 0 {
		return nil, base.Errorf(base.ErrInvalid, "no events to append")
	}
	size := 0
	for i := range evs {
		if len(evs[i].Data) > MaxEventBytes {
			return nil, base.Errorf(base.ErrTooLarge, "event %d: data is %d bytes, over the limit of %d", i, len(evs[i].Data), MaxEventBytes)
		}
		if evs[i].Type == "" {
			evs[i].Type = evs[i].ContentType
		}
		size += len(evs[i].Data) + len(evs[i].Type) + len(evs[i].ContentType) + 3*binary.MaxVarintLen64
	}
	if err := e.writable(int64(size)); err != nil {
		return nil, err
	}
	// Typed events are validated and built before anything is logged: all
	// or nothing.
	typed, err := e.buildTypedEvents(st, evs)
	if err != nil {
		return nil, err
	}
	if typed != nil {
		defer typed.release()
	}
	if err := st.admit(int64(len(evs)), int64(size), e.opts.Now()); err != nil {
		return nil, err
	}

	var hdr [256]byte
	st.mu.Lock()
	if first := evs[0].Index; first >= 0 && first != st.nextID {
		next := st.nextID
		st.mu.Unlock()
		return nil, base.Errorf(base.ErrConflict, "index [%d] is not the stream's next id %d", first, next)
	}
	// Timestamps, checked before anything is logged: all or nothing.
	tss := make([]int64, len(evs))
	last := st.lastTS
	now := nowMs(e.opts.Now())
	for i, ev := range evs {
		if ev.Forced {
			if ev.TS < last {
				st.mu.Unlock()
				return nil, base.Errorf(base.ErrConflict, "event %d: timestamp %d is before the stream's last timestamp %d", i, ev.TS, last)
			}
			tss[i] = ev.TS
		} else {
			tss[i] = max(now, last)
		}
		last = tss[i]
	}
	kind := recEvent
	if typed != nil {
		kind = recTypedEvent
	}
	body := make([]byte, 0, size+len(evs))
	for i, ev := range evs {
		body = appendEvent(body, tss[i], ev.Type, ev.ContentType, ev.Data)
		if typed != nil {
			body = append(body, typed.flag(i))
		}
	}
	d, parsed, err := e.decodeEvents(body, kind, typed.take)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	r := walRecord{kind: kind, name: st.label, firstID: st.nextID, rows: int64(len(evs)), ts: tss[0], event: evs[0].Type}
	pos, err := e.log.AppendParts(r.appendHeader(hdr[:0]), d.body)
	if err != nil {
		st.mu.Unlock()
		d.release()
		return nil, err
	}
	first := st.nextID
	e.pushEventsLocked(st, d, parsed, first, pos)
	st.mu.Unlock()

	if err := e.log.Wait(ctx, pos); err != nil {
		return nil, err
	}
	n := int64(len(evs))
	e.acknowledged(st, first+n, n, int64(size))
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return ids, nil
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

// parsedEvent is one event of a recEvent body: its ts and type, and its row
// (content type and data) as batch i of the decoded body.
type parsedEvent struct {
	ts  int64
	typ string
	et  *eventType // the type of a typed row, else nil
}

// typedRows gives the typed row of event i of a record, or nil for an
// untyped one; data is the event's logged body.
type typedRows func(i int, typ string, data []byte) (arrow.RecordBatch, *eventType)

// decodeEvents copies a recEvent or recTypedEvent body into the arena and
// makes one one-row payload record per event: for an untyped event its
// content type and data, pointing into the copy; for a typed one the
// record typed gives. A malformed body (only possible from a damaged log)
// is an error.
func (e *Engine) decodeEvents(body []byte, kind byte, typed typedRows) (*decoded, []parsedEvent, error) {
	cp, ch := e.arena.copyIn(body)
	d := &decoded{body: cp, chunk: ch, bytes: int64(len(body))}
	var evs []parsedEvent
	b := cp
	next := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, true
	}
	for len(b) > 0 {
		ts, k := binary.Uvarint(b)
		if k <= 0 {
			d.release()
			return nil, nil, fmt.Errorf("bad event timestamp")
		}
		b = b[k:]
		typ, ok1 := next()
		ct, ok2 := next()
		data, ok3 := next()
		if !ok1 || !ok2 || !ok3 {
			d.release()
			return nil, nil, fmt.Errorf("bad event %d", len(evs))
		}
		pe := parsedEvent{ts: int64(ts), typ: string(typ)}
		var rec arrow.RecordBatch
		if kind == recTypedEvent {
			if len(b) == 0 || b[0] > 1 {
				d.release()
				return nil, nil, fmt.Errorf("bad event %d: typed flag", len(evs))
			}
			if b[0] == 1 && typed != nil {
				rec, pe.et = typed(len(evs), pe.typ, data)
			}
			b = b[1:]
		}
		if rec == nil {
			rec = array.NewRecordBatch(eventsPayload, []arrow.Array{
				oneValue(arrow.BinaryTypes.String, ct), oneValue(arrow.BinaryTypes.Binary, data),
			}, 1)
		}
		d.batches = append(d.batches, rec)
		d.rows++
		evs = append(evs, pe)
	}
	return d, evs, nil
}

// pushEventsLocked is pushLocked for events: each has its own ts and type.
// A run of events with the same ts, type and schema (a bulk push, or CSV
// rows) becomes one batch rather than a batch per event: fewer batches for
// every reader, snapshot and flush.
// REQUIRES: st.mu held.
func (e *Engine) pushEventsLocked(st *Stream, d *decoded, evs []parsedEvent, first int64, pos wal.Pos) {
	recs := d.batches
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && evs[j].ts == evs[i].ts && evs[j].typ == evs[i].typ && evs[j].et == evs[i].et {
			j++
		}
		rec := recs[i]
		if j > i+1 {
			if merged, err := retype.Concat(recs[i:j], e.mem); err == nil {
				for _, r := range recs[i:j] {
					r.Release()
				}
				rec = merged
			} else {
				j = i + 1 // cannot happen (one schema); then a batch per event
			}
		}
		one := &decoded{batches: []arrow.RecordBatch{rec}, rows: rec.NumRows()}
		if et := evs[i].et; et != nil {
			one.stored, one.flushed = et.stored, et.flushed
		}
		if i == 0 {
			one.chunk, one.bytes = d.chunk, d.bytes
		} else {
			d.chunk.refs.Add(1)
			one.chunk = d.chunk
		}
		e.pushLocked(st, one, first+int64(i), evs[i].ts, 0, evs[i].typ, pos)
		i = j
	}
	d.batches, d.chunk = nil, nil
}

// replayEvent is replayRecord for a recEvent record.
func (e *Engine) replayEvent(st *Stream, pos wal.Pos, r *walRecord) error {
	if st.IsTopic() {
		return base.Errorf(base.ErrCorrupt, "engine: wal: event record at %d:%d for topic %s", pos.File, pos.Offset, st.label)
	}
	d, evs, err := e.decodeEvents(r.body, r.kind, func(_ int, typ string, data []byte) (arrow.RecordBatch, *eventType) {
		return st.replayTyped(typ, data, e.mem)
	})
	if err != nil {
		return base.Errorf(base.ErrCorrupt, "engine: wal: event record at %d:%d: %w", pos.File, pos.Offset, err)
	}
	if int64(len(evs)) != r.rows {
		d.release()
		return base.Errorf(base.ErrCorrupt, "engine: wal: event record at %d:%d has %d events, header says %d",
			pos.File, pos.Offset, len(evs), r.rows)
	}
	st.mu.Lock()
	e.pushEventsLocked(st, d, evs, r.firstID, pos)
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
	ts := st.typeSet()
	if ts == nil {
		return nil, nil
	}
	var t *typedEvents
	for i := range evs {
		et := ts.byName[evs[i].Type]
		if et == nil {
			continue
		}
		rec, err := et.buildTyped(evs[i].ContentType, evs[i].Data, e.mem)
		if err != nil {
			if t != nil {
				t.release()
			}
			if len(evs) > 1 {
				return nil, fmt.Errorf("event %d: %w", i, err)
			}
			return nil, err
		}
		if t == nil {
			t = &typedEvents{rows: make([]arrow.RecordBatch, len(evs)), types: make([]*eventType, len(evs))}
		}
		t.rows[i], t.types[i] = rec, et
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
