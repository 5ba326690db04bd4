package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/arrowipc"
	"github.com/ducktail/ducktail/engine/wal"
)

// ArrowEvent is the _event of rows ingested as Arrow IPC: the content type.
const ArrowEvent = "application/vnd.apache.arrow.stream"

// Appended says where an append landed. With Rows 0, FirstID is the next id
// and LastID is FirstID-1.
type Appended struct {
	Rows    int64
	FirstID int64
	LastID  int64
	TS      int64
}

// decoded is a validated body: its batches conformed to a stream's schema,
// pointing into an arena copy of the body.
type decoded struct {
	batches []arrow.RecordBatch
	rows    int64
	body    []byte // the arena copy
	chunk   *chunk
	bytes   int64
	// stored and flushed are the batches' schemas when not the stream's
	// own (typed events: their type's columns only).
	stored, flushed *arrow.Schema
}

func (d *decoded) release() {
	for _, b := range d.batches {
		b.Release()
	}
	d.batches = nil
	if d.chunk != nil {
		d.chunk.release()
		d.chunk = nil
	}
}

// decode copies body into the arena, decodes it as an Arrow IPC stream and
// conforms each batch to the stream's schema.
func (e *Engine) decode(st *Stream, body []byte) (*decoded, error) {
	cp, ch := e.arena.copyIn(body)
	d := &decoded{body: cp, chunk: ch, bytes: int64(len(body))}
	stream, err := arrowipc.Decode(cp, e.mem, arrowipc.Limits{})
	if err != nil {
		d.release()
		return nil, err
	}
	defer stream.Release()
	if err := st.matcher.CheckSchema(stream.Schema); err != nil {
		d.release()
		return nil, err
	}
	for i, rec := range stream.Batches {
		if rec.NumRows() == 0 {
			continue
		}
		c, err := st.matcher.Conform(rec, e.mem)
		if err != nil {
			d.release()
			return nil, base.Errorf(base.ErrInvalid, "batch %d: %w", i, err)
		}
		d.batches = append(d.batches, c)
		d.rows += c.NumRows()
	}
	return d, nil
}

// AppendArrow appends the rows of an Arrow IPC stream body to st and returns
// once they are durable under the engine's durability. tenant 0 means none.
// The body is copied; the caller may reuse it when AppendArrow returns.
func (e *Engine) AppendArrow(ctx context.Context, st *Stream, body []byte, tenant uint32) (Appended, error) {
	return e.appendArrow(ctx, st, body, tenant, ArrowEvent)
}

// AppendRows is AppendArrow for rows that came another way (JSON objects
// POSTed to a topic): event is their _event, and there is no tenant.
func (e *Engine) AppendRows(ctx context.Context, st *Stream, body []byte, event string) (Appended, error) {
	return e.appendArrow(ctx, st, body, 0, event)
}

func (e *Engine) appendArrow(ctx context.Context, st *Stream, body []byte, tenant uint32, event string) (Appended, error) {
	if !st.IsTopic() {
		return Appended{}, base.Errorf(base.ErrUnsupported, "stream %s holds untyped events, not Arrow batches", st.label)
	}
	if err := e.writable(int64(len(body))); err != nil {
		return Appended{}, err
	}
	d, err := e.decode(st, body)
	if err != nil {
		return Appended{}, err
	}
	if err := st.admit(d.rows, int64(len(body)), e.opts.Now()); err != nil {
		d.release()
		return Appended{}, err
	}
	if d.rows == 0 {
		d.release()
		st.mu.Lock()
		next := st.nextID
		st.mu.Unlock()
		return Appended{FirstID: next, LastID: next - 1}, nil
	}

	var hdr [128]byte // the header is small: kind, name, ids, ts, tenant, event
	st.mu.Lock()
	now := nowMs(e.opts.Now())
	ts := max(now, st.lastTS)
	r := walRecord{kind: recArrow, name: st.label, firstID: st.nextID, rows: d.rows,
		ts: ts, tenant: tenant, event: event}
	pos, err := e.log.AppendParts(r.appendHeader(hdr[:0]), d.body)
	if err != nil {
		st.mu.Unlock()
		d.release()
		return Appended{}, err
	}
	first := st.nextID
	e.pushLocked(st, d, first, ts, tenant, event, pos)
	st.mu.Unlock()

	if err := e.log.Wait(ctx, pos); err != nil {
		return Appended{}, err
	}
	last := first + d.rows - 1
	e.acknowledged(st, last+1, d.rows, int64(len(body)))
	return Appended{Rows: d.rows, FirstID: first, LastID: last, TS: ts}, nil
}

// writable refuses an append of n bytes when the engine cannot take it: it
// is read-only, its WAL failed, or the memory budget is full (then it asks
// the flusher to hurry).
func (e *Engine) writable(n int64) error {
	if e.log == nil {
		return base.Errorf(base.ErrForbidden, "engine: opened read-only")
	}
	if err := e.log.Err(); err != nil {
		return err
	}
	if used := e.bufBytes.Load(); used+n > e.opts.MemoryBudget {
		e.kickFlush()
		return base.Retry(base.ErrOverCapacity, 250,
			"memory budget full: %d of %d bytes buffered (memory_budget_bytes); flushing", used, e.opts.MemoryBudget)
	}
	return nil
}

// acknowledged does what follows an append made durable: its rows, up to
// next, become visible (and subscribers are woken), the counters move, and
// the flusher is told if a limit is reached.
func (e *Engine) acknowledged(st *Stream, next, rows, bytes int64) {
	st.markDurable(next)
	st.rowsIn.Add(rows)
	st.bytesIn.Add(bytes)
	st.rowsCounter.Add(float64(rows))
	st.bytesCounter.Add(float64(bytes))
	if st.needsFlush(e.opts.Flush, e.opts.Now()) {
		e.kickFlush()
	}
}

// pushLocked turns d into batches at the end of st's buffer, giving them ids
// from first on. It takes over d's references.
// REQUIRES: st.mu held.
func (e *Engine) pushLocked(st *Stream, d *decoded, first, ts int64, tenant uint32, event string, pos wal.Pos) {
	now := e.opts.Now()
	id := first
	stored, flushed := st.stored, st.flushed
	if d.stored != nil {
		stored, flushed = d.stored, d.flushed
	}
	for i, rec := range d.batches {
		b := &Batch{
			FirstID: id, Rows: rec.NumRows(), TS: ts, Event: event, Tenant: tenant,
			Sub: st.sub, payload: rec, stored: stored, flushed: flushed, walPos: pos, arrived: now,
		}
		if i == 0 {
			b.Bytes = d.bytes
			b.chunk = d.chunk // the batches share one arena allocation
		} else {
			d.chunk.refs.Add(1)
			b.chunk = d.chunk
		}
		b.budget = &e.bufBytes
		b.refs.Store(1)
		st.batches = append(st.batches, b)
		id += b.Rows
	}
	e.bufBytes.Add(d.bytes)
	st.bufRows += d.rows
	st.bufBytes += d.bytes
	st.nextID = first + d.rows
	st.lastTS = ts
	d.batches, d.chunk = nil, nil
}

// replayRecord is wal.Replay's callback: it puts a logged append back into
// its stream's buffer unless a committed segment already holds it.
func (e *Engine) replayRecord(pos wal.Pos, rec []byte) error {
	var r walRecord
	if err := r.decode(rec); err != nil {
		return err
	}
	st, name, err := e.streamOfLabel(r.name)
	if err != nil {
		return base.Errorf(base.ErrCorrupt, "engine: wal record names %q: %w", r.name, err)
	}
	if st == nil {
		e.opts.Logger.Warn("wal record for an unknown stream skipped", "stream", r.name, "rows", r.rows)
		return nil
	}
	if r.firstID+r.rows <= st.nextID {
		return nil // flushed before the crash
	}
	if r.firstID != st.nextID {
		return base.Errorf(base.ErrCorrupt, "engine: wal: %s record at %d:%d starts at id %d, want %d",
			name, pos.File, pos.Offset, r.firstID, st.nextID)
	}
	if r.kind == recEvent || r.kind == recTypedEvent {
		return e.replayEvent(st, pos, &r)
	}
	d, err := e.decode(st, r.body)
	if err != nil {
		return base.Errorf(base.ErrCorrupt, "engine: wal: %s record at %d:%d does not decode: %w", name, pos.File, pos.Offset, err)
	}
	if d.rows != r.rows {
		d.release()
		return base.Errorf(base.ErrCorrupt, "engine: wal: %s record at %d:%d has %d rows, header says %d",
			name, pos.File, pos.Offset, d.rows, r.rows)
	}
	st.mu.Lock()
	e.pushLocked(st, d, r.firstID, r.ts, r.tenant, r.event, pos)
	st.durable = st.nextID
	st.mu.Unlock()
	return nil
}
