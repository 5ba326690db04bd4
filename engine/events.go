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
)

// kindEvents is the catalog kind of a stream of untyped events.
const kindEvents = "events"

// recEvent is the WAL record kind of one untyped event; its body is the
// content type (uvarint length, bytes) followed by the data.
const recEvent byte = 2

// MaxEventBytes bounds an event's data (SPEC 4.2: 100 KiB).
const MaxEventBytes = 100 << 10

// eventsPayload is the payload of a stream of untyped events (SPEC 2): the
// content type and the bytes of each event as received.
var eventsPayload = arrow.NewSchema([]arrow.Field{
	{Name: base.ColContentType, Type: arrow.BinaryTypes.String},
	{Name: base.ColData, Type: arrow.BinaryTypes.Binary},
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
	if st.IsTopic() {
		return 0, base.Errorf(base.ErrUnsupported, "stream %s is a topic: send it Arrow IPC batches (POST /ingest/{token})", st.label)
	}
	if e.log == nil {
		return 0, base.Errorf(base.ErrForbidden, "engine: opened read-only")
	}
	if len(ev.Data) > MaxEventBytes {
		return 0, base.Errorf(base.ErrTooLarge, "event data is %d bytes, over the limit of %d", len(ev.Data), MaxEventBytes)
	}
	if ev.Type == "" {
		ev.Type = ev.ContentType
	}
	if err := e.log.Err(); err != nil {
		return 0, err
	}
	body := appendEventBody(nil, ev.ContentType, ev.Data)
	if used := e.bufBytes.Load(); used+int64(len(body)) > e.opts.MemoryBudget {
		e.kickFlush()
		return 0, base.Retry(base.ErrOverCapacity, 250,
			"memory budget full: %d of %d bytes buffered (memory_budget_bytes); flushing", used, e.opts.MemoryBudget)
	}
	d := e.decodeEvent(body)

	var hdr [256]byte
	st.mu.Lock()
	if ev.Index >= 0 && ev.Index != st.nextID {
		next := st.nextID
		st.mu.Unlock()
		d.release()
		return 0, base.Errorf(base.ErrConflict, "index [%d] is not the stream's next id %d", ev.Index, next)
	}
	ts := max(nowMs(e.opts.Now()), st.lastTS)
	if ev.Forced {
		if ev.TS < st.lastTS {
			last := st.lastTS
			st.mu.Unlock()
			d.release()
			return 0, base.Errorf(base.ErrConflict, "timestamp %d is before the stream's last timestamp %d", ev.TS, last)
		}
		ts = ev.TS
	}
	r := walRecord{kind: recEvent, name: st.label, firstID: st.nextID, rows: 1, ts: ts, event: ev.Type}
	pos, err := e.log.AppendParts(r.appendHeader(hdr[:0]), d.body)
	if err != nil {
		st.mu.Unlock()
		d.release()
		return 0, err
	}
	id := st.nextID
	e.pushLocked(st, d, id, ts, 0, ev.Type, pos)
	st.mu.Unlock()

	if err := e.log.Wait(ctx, pos); err != nil {
		return 0, err
	}
	st.markDurable(id + 1)
	st.rowsIn.Add(1)
	st.bytesIn.Add(int64(len(ev.Data)))
	st.rowsCounter.Inc()
	st.bytesCounter.Add(float64(len(ev.Data)))
	if st.needsFlush(e.opts.Flush, e.opts.Now()) {
		e.kickFlush()
	}
	return id, nil
}

func appendEventBody(dst []byte, contentType string, data []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(contentType)))
	dst = append(dst, contentType...)
	return append(dst, data...)
}

// decodeEvent copies an event body (see recEvent) into the arena and makes
// its one-row payload record, pointing into the copy.
func (e *Engine) decodeEvent(body []byte) *decoded {
	cp, ch := e.arena.copyIn(body)
	n, k := binary.Uvarint(cp)
	ct, data := cp[k:k+int(n)], cp[k+int(n):]
	rec := array.NewRecordBatch(eventsPayload, []arrow.Array{
		oneValue(arrow.BinaryTypes.String, ct), oneValue(arrow.BinaryTypes.Binary, data),
	}, 1)
	return &decoded{batches: []arrow.RecordBatch{rec}, rows: 1, body: cp, chunk: ch, bytes: int64(len(body))}
}

// oneValue is a one-row utf8 or binary array over v (no copy).
func oneValue(t arrow.DataType, v []byte) arrow.Array {
	offsets := int32Bytes([]int32{0, int32(len(v))})
	data := array.NewData(t, 1, []*memory.Buffer{nil, memory.NewBufferBytes(offsets), memory.NewBufferBytes(v)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// validEventBody checks a logged event body before replay decodes it.
func validEventBody(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return fmt.Errorf("bad content type length")
	}
	return nil
}

// replayEvent is replayRecord for a recEvent record.
func (e *Engine) replayEvent(st *Stream, pos wal.Pos, r *walRecord) error {
	if st.IsTopic() || r.rows != 1 {
		return base.Errorf(base.ErrCorrupt, "engine: wal: event record at %d:%d for %s (%d rows)", pos.File, pos.Offset, st.label, r.rows)
	}
	if err := validEventBody(r.body); err != nil {
		return base.Errorf(base.ErrCorrupt, "engine: wal: event record at %d:%d: %w", pos.File, pos.Offset, err)
	}
	d := e.decodeEvent(r.body)
	st.mu.Lock()
	e.pushLocked(st, d, r.firstID, r.ts, r.tenant, r.event, pos)
	st.durable = st.nextID
	st.mu.Unlock()
	return nil
}
