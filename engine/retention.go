package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/ducktail/ducktail/storage/manifest"
)

// SetRetention makes the engine delete the stream's segments once every row
// in them is older than d (by _ts); 0 keeps them forever. Only whole
// segments go, oldest first; unflushed rows are never touched.
func (s *Stream) SetRetention(d time.Duration) { s.retention.Store(int64(d)) }

// Retention returns the stream's retention, 0 for none.
// A substream has its factory's.
func (s *Stream) Retention() time.Duration {
	if s.parent != nil {
		return s.parent.Retention()
	}
	return time.Duration(s.retention.Load())
}

// doomed is a segment object that retention removed from the manifest and
// will delete once readers holding an older snapshot are done with it.
type doomed struct {
	key   string
	after time.Time
}

// retentionLoop applies retention and compaction every
// Options.RetentionInterval, and deletes what they removed a round earlier.
func (e *Engine) retentionLoop(ctx context.Context) {
	tick := time.NewTicker(e.opts.RetentionInterval)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
		}
		now := e.opts.Now()
		for _, st := range e.allStreams() {
			if _, err := e.applyRetention(ctx, st, now); err != nil && ctx.Err() == nil {
				e.opts.Logger.Error("retention failed; will retry", "stream", st.label, "err", err)
			}
			// One run a round per stream keeps compaction's share of the
			// machine small.
			if n, err := e.compact(ctx, st); err != nil && ctx.Err() == nil {
				e.opts.Logger.Error("compaction failed; will retry", "stream", st.label, "err", err)
			} else if n > 0 {
				e.opts.Logger.Info("compacted segments", "stream", st.label, "segments", n)
			}
		}
		e.deleteDoomed(ctx, now)
	}
}

// applyRetention commits a manifest without the stream's segments that are
// entirely older than its retention and schedules their objects for
// deletion. It returns how many segments it removed.
func (e *Engine) applyRetention(ctx context.Context, st *Stream, now time.Time) (int, error) {
	d := st.Retention()
	if d <= 0 {
		return 0, nil
	}
	cutoff := now.Add(-d).UnixMilli()
	// Alone with the manifest: no flush job may commit meanwhile.
	st.flushRW.Lock()
	defer st.flushRW.Unlock()
	st.mu.Lock()
	m := st.manifest
	st.mu.Unlock()
	k := 0
	for k < len(m.Segments) && m.Segments[k].MaxTS < cutoff {
		k++
	}
	if k == 0 {
		return 0, nil
	}
	committed, err := manifest.Commit(ctx, e.store, st.prefix, m.Trim(k))
	if err != nil {
		return 0, fmt.Errorf("committing the manifest of %s: %w", st.label, err)
	}
	st.mu.Lock()
	st.manifest = committed
	st.mu.Unlock()
	e.doom(m.Segments[:k], now)
	e.opts.Logger.Info("retention removed segments", "stream", st.label, "segments", k,
		"first_id_kept", committed.Trimmed)
	return k, nil
}

// doom schedules the objects of segments that left the manifest for
// deletion after the grace period.
func (e *Engine) doom(segs []manifest.Segment, now time.Time) {
	e.doomMu.Lock()
	for _, s := range segs {
		e.doomed = append(e.doomed, doomed{key: s.Key, after: now.Add(e.opts.RetentionInterval)})
	}
	e.doomMu.Unlock()
}

// deleteDoomed deletes the doomed objects whose grace period is over. An
// object that fails to go is left to the orphan sweep of the next start.
func (e *Engine) deleteDoomed(ctx context.Context, now time.Time) {
	e.doomMu.Lock()
	var due []doomed
	kept := e.doomed[:0]
	for _, d := range e.doomed {
		if now.After(d.after) {
			due = append(due, d)
		} else {
			kept = append(kept, d)
		}
	}
	e.doomed = kept
	e.doomMu.Unlock()
	for _, d := range due {
		if err := e.store.Delete(ctx, d.key); err != nil {
			e.opts.Logger.Warn("cannot delete a segment removed by retention", "key", d.key, "err", err)
		}
	}
}
