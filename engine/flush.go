package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/ducktail/ducktail/storage/segment"
)

// needsFlush reports whether the stream's buffer has reached a flush limit.
func (s *Stream) needsFlush(f FlushOptions, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.batches) == 0 {
		return false
	}
	return s.bufRows >= f.MaxRows || s.bufBytes >= f.MaxBytes || now.Sub(s.oldest) >= f.MaxAge
}

func (e *Engine) kickFlush() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// flushLoop flushes streams that reached a limit, or all of them with data
// when the memory budget is three-quarters used. Failed flushes are logged
// and retried on the next round; their rows stay in memory and in the WAL.
func (e *Engine) flushLoop() {
	tick := time.NewTicker(min(e.opts.Flush.MaxAge/4, 250*time.Millisecond))
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-e.stop
		cancel()
	}()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
		case <-e.kick:
		}
		pressure := e.bufBytes.Load() >= e.opts.MemoryBudget/4*3
		now := e.opts.Now()
		for _, st := range e.Streams() {
			// A stream over its limits may need several segments.
			for i := 0; i < 64 && (pressure || st.needsFlush(e.opts.Flush, now)) && st.hasBatches(); i++ {
				if err := e.flushStream(ctx, st); err != nil {
					if ctx.Err() == nil {
						e.metrics.flushErrors.Inc()
						e.opts.Logger.Error("flush failed; will retry", "stream", st.name.String(), "err", err)
					}
					break
				}
				if !pressure && !st.needsFlush(e.opts.Flush, now) {
					break
				}
			}
		}
	}
}

// flushStream writes the stream's durable buffered batches as one segment,
// commits it to the manifest, drops the batches and truncates the WAL.
func (e *Engine) flushStream(ctx context.Context, st *Stream) error {
	st.flushMu.Lock()
	defer st.flushMu.Unlock()

	st.mu.Lock()
	// One segment holds at most about flush.max_rows rows and max_bytes
	// bytes (at least one batch); the flusher comes back for the rest.
	var rows, size int64
	n := 0
	for n < len(st.batches) {
		b := st.batches[n]
		if n > 0 && (rows+b.Rows > e.opts.Flush.MaxRows || size+b.Bytes > e.opts.Flush.MaxBytes) {
			break
		}
		rows += b.Rows
		size += b.Bytes
		n++
	}
	batches := append([]*Batch(nil), st.batches[:n]...)
	m := st.manifest
	st.mu.Unlock()
	if len(batches) == 0 {
		return nil
	}
	// Batches whose appender stopped waiting (client gone) may not be marked
	// durable yet: make sure the WAL has them before they become a segment.
	last := batches[len(batches)-1]
	if err := e.waitDurable(ctx, st, last); err != nil {
		return err
	}
	start := time.Now()
	first := batches[0].FirstID
	key := fmt.Sprintf("%s%020d-%020d.parquet", st.prefix, first, last.LastID())
	recs := make([]arrow.RecordBatch, len(batches))
	for i, b := range batches {
		recs[i] = b.flushRecord(st.flushed)
	}
	info, err := e.writeSegment(ctx, key, st.stored, recs)
	for _, r := range recs {
		r.Release()
	}
	if err != nil {
		return err
	}
	next := &manifest.Manifest{Version: m.Version, Stream: st.name.String(),
		Segments: append(append([]manifest.Segment(nil), m.Segments...), manifest.Segment{
			Key: key, FirstID: info.FirstID, LastID: info.LastID, MinTS: info.MinTS, MaxTS: info.MaxTS,
			Rows: info.Rows, Bytes: info.Bytes, CRC32C: info.CRC32C,
		})}
	committed, err := manifest.Commit(ctx, e.store, st.prefix, next)
	if err != nil {
		return fmt.Errorf("committing the manifest of %s: %w", st.name, err)
	}

	st.mu.Lock()
	st.manifest = committed
	st.batches = st.batches[len(batches):]
	if len(st.batches) == 0 {
		st.batches = nil
	} else {
		st.oldest = e.opts.Now()
	}
	for _, b := range batches {
		st.bufRows -= b.Rows
		st.bufBytes -= b.Bytes
	}
	st.mu.Unlock()
	for _, b := range batches {
		b.release()
	}
	e.metrics.flushSeconds.Observe(time.Since(start).Seconds())
	e.metrics.flushRows.Add(float64(info.Rows))
	e.truncateWAL()
	return nil
}

func (e *Engine) waitDurable(ctx context.Context, st *Stream, b *Batch) error {
	st.mu.Lock()
	ok := b.LastID() < st.durable
	st.mu.Unlock()
	if ok {
		return nil
	}
	if e.log == nil {
		return base.Errorf(base.ErrClosed, "engine: read-only")
	}
	if err := e.log.Wait(ctx, b.walPos); err != nil {
		return err
	}
	st.markDurable(b.LastID() + 1)
	return nil
}

func (e *Engine) writeSegment(ctx context.Context, key string, s *arrow.Schema, recs []arrow.RecordBatch) (segment.Info, error) {
	w, err := e.store.Create(ctx, key)
	if err != nil {
		return segment.Info{}, fmt.Errorf("creating segment %s: %w", key, err)
	}
	info, err := segment.Write(w, s, recs, segment.WriterOptions{})
	if err != nil {
		w.Abort()
		return segment.Info{}, fmt.Errorf("writing segment %s: %w", key, err)
	}
	if err := w.Commit(); err != nil {
		return segment.Info{}, fmt.Errorf("committing segment %s: %w", key, err)
	}
	return info, nil
}

// truncateWAL removes the WAL files that hold only records covered by
// committed manifests: those older than the oldest file any buffered batch
// still needs.
func (e *Engine) truncateWAL() {
	if e.log == nil {
		return
	}
	oldest := e.log.ActiveFile()
	for _, st := range e.Streams() {
		st.mu.Lock()
		if len(st.batches) > 0 && st.batches[0].walPos.File < oldest {
			oldest = st.batches[0].walPos.File
		}
		st.mu.Unlock()
	}
	if err := e.log.RemoveBefore(oldest); err != nil {
		e.opts.Logger.Warn("cannot remove old WAL files", "err", err)
	}
}

// Flush flushes every stream now, regardless of limits, until no durable
// batch is left in memory.
func (e *Engine) Flush(ctx context.Context) error {
	for _, st := range e.Streams() {
		if err := e.flushAll(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// flushAll flushes st until its buffer is empty.
func (e *Engine) flushAll(ctx context.Context, st *Stream) error {
	for st.hasBatches() {
		if err := e.flushStream(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stream) hasBatches() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.batches) > 0
}
