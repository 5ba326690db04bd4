package engine

import (
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/internal/retype"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/ducktail/ducktail/storage/segment"
)

// compactRun returns the first run of at least two adjacent segments that
// are each under half of flush.max_rows and together at most max_rows: the
// small segments that age flushes, quiet streams and retention leave.
func compactRun(segs []manifest.Segment, maxRows int64) (lo, hi int) {
	small := func(s manifest.Segment) bool { return s.Rows < maxRows/2 }
	for lo = 0; lo < len(segs); lo++ {
		if !small(segs[lo]) {
			continue
		}
		rows := segs[lo].Rows
		hi = lo + 1
		for hi < len(segs) && small(segs[hi]) && rows+segs[hi].Rows <= maxRows {
			rows += segs[hi].Rows
			hi++
		}
		if hi-lo >= 2 {
			return lo, hi
		}
	}
	return 0, 0
}

// compact merges one run of small adjacent segments of st into one segment
// with the same ids and rows, and reports how many segments it merged. The
// merged segment is written without holding any lock; it replaces the run in
// the manifest only if the run is still there (retention may have trimmed
// it meanwhile), alone with the manifest. The old objects are deleted after
// the retention grace period, like those retention removes.
func (e *Engine) compact(ctx context.Context, st *Stream) (int, error) {
	st.mu.Lock()
	m := st.manifest
	st.mu.Unlock()
	lo, hi := compactRun(m.Segments, e.opts.Flush.MaxRows)
	if hi-lo < 2 {
		return 0, nil
	}
	run := append([]manifest.Segment(nil), m.Segments[lo:hi]...)
	var recs []arrow.RecordBatch
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, s := range run {
		got, err := e.readSegment(ctx, s.Key)
		if err != nil {
			return 0, err
		}
		recs = append(recs, got...)
	}
	// Segments written before an event type added columns lack them: the
	// merged segment has the current schema, with nulls there.
	stored, _ := st.schemas()
	for i, r := range recs {
		c, err := retype.Conform(r, stored, memory.DefaultAllocator)
		if err != nil {
			return 0, fmt.Errorf("compacting %s: segment rows: %w", st.label, err)
		}
		r.Release()
		recs[i] = c
	}
	key := fmt.Sprintf("%s%020d-%020d.parquet", st.prefix, run[0].FirstID, run[len(run)-1].LastID)
	info, err := e.writeSegment(ctx, key, stored, recs)
	if err != nil {
		return 0, err
	}
	merged := manifest.Segment{Key: key, FirstID: info.FirstID, LastID: info.LastID, MinTS: info.MinTS,
		MaxTS: info.MaxTS, Rows: info.Rows, Bytes: info.Bytes, CRC32C: info.CRC32C}

	st.flushRW.Lock()
	defer st.flushRW.Unlock()
	st.mu.Lock()
	cur := st.manifest
	st.mu.Unlock()
	at := -1
	for i := range cur.Segments {
		if cur.Segments[i] == run[0] {
			at = i
			break
		}
	}
	if at < 0 || at+len(run) > len(cur.Segments) || cur.Segments[at+len(run)-1] != run[len(run)-1] {
		return 0, nil // the run changed under us; the merged object is an orphan for the next start
	}
	next := &manifest.Manifest{Version: cur.Version, Stream: cur.Stream, Trimmed: cur.Trimmed, TrimmedTS: cur.TrimmedTS}
	next.Segments = append(append(append(next.Segments, cur.Segments[:at]...), merged), cur.Segments[at+len(run):]...)
	committed, err := manifest.Commit(ctx, e.store, st.prefix, next)
	if err != nil {
		return 0, fmt.Errorf("committing the manifest of %s: %w", st.label, err)
	}
	st.mu.Lock()
	st.manifest = committed
	st.mu.Unlock()
	e.doom(run, e.opts.Now())
	return len(run), nil
}

// readSegment reads a whole segment.
func (e *Engine) readSegment(ctx context.Context, key string) ([]arrow.RecordBatch, error) {
	obj, err := e.store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("opening segment %s: %w", key, err)
	}
	defer obj.Close()
	r, err := segment.Open(obj, obj.Size(), memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("reading segment %s: %w", key, err)
	}
	defer r.Close()
	recs, err := r.ReadRange(ctx, 0, math.MaxInt64, math.MinInt64, math.MaxInt64, 0)
	if err != nil {
		return nil, fmt.Errorf("reading segment %s: %w", key, err)
	}
	return recs, nil
}
