package engine

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/internal/retype"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/ducktail/ducktail/storage/segment"
)

// needsFlush reports whether the stream's unclaimed batches (those no
// flush job has taken yet) have reached a flush limit.
func (s *Stream) needsFlush(f FlushOptions, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed == len(s.batches) {
		return false
	}
	return s.bufRows-s.claimedRows >= f.MaxRows || s.bufBytes-s.claimedBytes >= f.MaxBytes ||
		now.Sub(s.batches[s.claimed].arrived) >= f.MaxAge
}

func (e *Engine) kickFlush() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// flushLoop is one flush worker: it flushes streams that reached a limit, or
// everything unclaimed when the memory budget is three-quarters used. Several
// workers run at once (Options.FlushWorkers); on one stream they pipeline:
// each claims the next batches and writes its segment in parallel with the
// others, and the manifest commits follow claim order. Failed flushes are
// logged and retried on a later round; their rows stay in memory and in the
// WAL.
func (e *Engine) flushLoop(ctx context.Context) {
	tick := time.NewTicker(min(e.opts.Flush.MaxAge/4, 250*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
		case <-e.kick:
		}
		pressure := e.bufBytes.Load() >= e.opts.MemoryBudget/4*3
		now := e.opts.Now()
		for _, st := range e.allStreams() {
			// A stream over its limits may need several segments.
			for i := 0; i < 64 && (pressure || st.needsFlush(e.opts.Flush, now)); i++ {
				flushed, err := e.flushJob(ctx, st)
				if err != nil {
					if ctx.Err() == nil {
						e.metrics.flushErrors.Inc()
						e.opts.Logger.Error("flush failed; will retry", "stream", st.label, "err", err)
					}
					break
				}
				if !flushed {
					break
				}
			}
		}
	}
}

// flushJob claims the stream's next unclaimed batches (at most about
// flush.max_rows rows and max_bytes bytes, at least one batch), writes them
// as one segment, and, when every earlier job of the stream has committed or
// stepped aside, commits the segment to the manifest and drops the batches
// from memory in one step under the stream's mutex, so that a reader sees
// every row exactly once. It reports whether it flushed anything.
//
// If a job fails, the jobs claimed after it cannot commit (their segments
// would leave a gap): the failure releases every claim and bumps the
// stream's epoch, and those jobs step aside at their turn. Their segment
// objects are left for the next start's orphan sweep: deleting one could
// remove a later job's identical segment of the same id range.
func (e *Engine) flushJob(ctx context.Context, st *Stream) (bool, error) {
	st.flushRW.RLock()
	defer st.flushRW.RUnlock()
	return e.flushJobLocked(ctx, st)
}

// flushJobLocked is flushJob for a caller that holds st.flushRW.
func (e *Engine) flushJobLocked(ctx context.Context, st *Stream) (bool, error) {
	st.mu.Lock()
	var rows, size int64
	n := 0
	for st.claimed+n < len(st.batches) {
		b := st.batches[st.claimed+n]
		if n > 0 && (rows+b.Rows > e.opts.Flush.MaxRows || size+b.Bytes > e.opts.Flush.MaxBytes) {
			break
		}
		rows += b.Rows
		size += b.Bytes
		n++
	}
	if n == 0 {
		st.mu.Unlock()
		return false, nil
	}
	batches := append([]*Batch(nil), st.batches[st.claimed:st.claimed+n]...)
	for _, b := range batches {
		b.retain() // the job's own reference, whatever becomes of the claim
	}
	defer func() {
		for _, b := range batches {
			b.release()
		}
	}()
	st.claimed += n
	st.claimedRows += rows
	st.claimedBytes += size
	ticket, epoch := st.nextTicket, st.epoch
	st.nextTicket++
	st.mu.Unlock()

	start := time.Now()
	info, key, werr := e.writeBatches(ctx, st, batches)

	// Wait for our turn: every earlier job has committed or stepped aside.
	st.mu.Lock()
	for st.turn != ticket {
		st.turnCond.Wait()
	}
	stale := epoch != st.epoch
	m := st.manifest
	st.mu.Unlock()

	var committed *manifest.Manifest
	err := werr
	if !stale && err == nil {
		next := &manifest.Manifest{Version: m.Version, Stream: st.label,
			Segments: append(append([]manifest.Segment(nil), m.Segments...), manifest.Segment{
				Key: key, FirstID: info.FirstID, LastID: info.LastID, MinTS: info.MinTS, MaxTS: info.MaxTS,
				Rows: info.Rows, Bytes: info.Bytes, CRC32C: info.CRC32C,
			})}
		if committed, err = manifest.Commit(ctx, e.store, st.prefix, next); err != nil {
			err = fmt.Errorf("committing the manifest of %s: %w", st.label, err)
		}
	}

	st.mu.Lock()
	switch {
	case stale:
		// An earlier job failed and released our claim; the batches are
		// claimed again by later jobs.
	case err != nil:
		st.epoch++
		st.claimed, st.claimedRows, st.claimedBytes = 0, 0, 0
	default:
		st.manifest = committed
		// Jobs commit in claim order, so ours are the first batches.
		st.batches = st.batches[n:]
		if len(st.batches) == 0 {
			st.batches = nil
		}
		st.claimed -= n
		st.claimedRows -= rows
		st.claimedBytes -= size
		st.bufRows -= rows
		st.bufBytes -= size
	}
	st.turn++
	st.turnCond.Broadcast()
	st.mu.Unlock()
	if stale {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, b := range batches {
		b.release() // the buffer's reference
	}
	e.metrics.flushSeconds.Observe(time.Since(start).Seconds())
	e.metrics.flushRows.Add(float64(info.Rows))
	e.truncateWAL()
	return true, nil
}

// writeBatches writes batches as one segment and returns its description
// and key. A panic in the Parquet writer becomes an error: the job must
// still take its turn, or every later flush of the stream would wait for it.
func (e *Engine) writeBatches(ctx context.Context, st *Stream, batches []*Batch) (info segment.Info, key string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("writing a segment of %s panicked: %v\n%s", st.label, p, debug.Stack())
		}
	}()
	last := batches[len(batches)-1]
	// Batches whose appender stopped waiting (client gone) may not be marked
	// durable yet: make sure the WAL has them before they become a segment.
	if err := e.waitDurable(ctx, st, last); err != nil {
		return segment.Info{}, "", err
	}
	key = fmt.Sprintf("%s%020d-%020d.parquet", st.prefix, batches[0].FirstID, last.LastID())
	// One segment, one schema: the stream's current one. Batches appended
	// before an event type added columns, or holding another type's
	// columns only, get nulls in the columns they lack.
	stored, flushed := st.schemas()
	recs := make([]arrow.RecordBatch, 0, len(batches))
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for i := 0; i < len(batches); {
		if j := mergeRun(batches, i, stored); j > i+1 {
			r, err := mergeBatches(batches[i:j], flushed, memory.DefaultAllocator)
			if err != nil {
				return segment.Info{}, "", fmt.Errorf("flushing %s: %w", st.label, err)
			}
			recs = append(recs, r)
			i = j
			continue
		}
		b := batches[i]
		i++
		r := b.flushRecord(b.flushed)
		if b.stored != stored {
			c, err := retype.Conform(r, flushed, memory.DefaultAllocator)
			r.Release()
			if err != nil {
				return segment.Info{}, "", fmt.Errorf("flushing %s: %w", st.label, err)
			}
			r = c
		}
		recs = append(recs, r)
	}
	info, err = e.writeSegment(ctx, key, stored, recs)
	return info, key, err
}

// mergeRun returns the end of the run of mergeable batches from i on (coalesce.go),
// at most a row group long: i itself if batches[i] is not mergeable.
func mergeRun(batches []*Batch, i int, stored *arrow.Schema) int {
	rows, size := int64(0), int64(0)
	j := i
	for j < len(batches) && rows < coalesceMaxRows && size < coalesceMaxBytes && mergeable(batches[j], stored) {
		rows += batches[j].Rows
		size += batches[j].Bytes
		j++
	}
	return j
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
	for _, st := range e.allStreams() {
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
	for _, st := range e.allStreams() {
		if err := e.flushAll(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// flushAll flushes st until its buffer is empty. It waits for the
// workers' jobs in flight and keeps them out meanwhile.
func (e *Engine) flushAll(ctx context.Context, st *Stream) error {
	st.flushRW.Lock()
	defer st.flushRW.Unlock()
	for {
		flushed, err := e.flushJobLocked(ctx, st)
		if err != nil {
			return err
		}
		if !flushed {
			return nil
		}
	}
}
