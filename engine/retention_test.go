package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ducktail/ducktail/base"
)

// TestRetention: segments wholly older than the retention go, oldest first;
// their objects are deleted after the grace period; ids and timestamps stay
// monotonic across a restart even when every segment has gone.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	now := func() time.Time { return time.UnixMilli(clock.Load()) }
	opts := Options{DataDir: dir, Now: now, manualFlush: true, RetentionInterval: time.Minute}
	e, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	bodies, payload := demoBodies(t, 4, 250)
	name := base.StreamName{Account: "demo", Name: "events"}
	st, err := e.CreateTopic(ctx, name, payload)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // one segment an hour
		if _, err := e.AppendArrow(ctx, st, bodies[i], 0); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Hour.Milliseconds())
	}
	first := st.Snapshot().Manifest.Segments[0].Key
	st.SetRetention(90 * time.Minute)
	n, err := e.applyRetention(ctx, st, now()) // now = start+3h: the first two are older
	if err != nil || n != 2 {
		t.Fatalf("applyRetention = %d, %v; want 2 segments", n, err)
	}
	snap := st.Snapshot()
	if len(snap.Manifest.Segments) != 1 || snap.Manifest.Trimmed != 500 || snap.NextID != 750 {
		t.Fatalf("after retention: %+v next %d", snap.Manifest, snap.NextID)
	}
	snap.Release()
	// The objects stay for the grace period, then go.
	e.deleteDoomed(ctx, now())
	if obj, err := e.store.Open(ctx, first); err != nil {
		t.Fatalf("deleted before the grace period: %v", err)
	} else {
		obj.Close()
	}
	e.deleteDoomed(ctx, now().Add(2*time.Minute))
	if _, err := e.store.Open(ctx, first); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("not deleted after the grace period: %v", err)
	}
	// Everything old: no segment left, ids continue after a restart.
	clock.Add(10 * time.Hour.Milliseconds())
	if n, err := e.applyRetention(ctx, st, now()); err != nil || n != 1 {
		t.Fatalf("second retention = %d, %v", n, err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st, _ = e.Stream(name)
	a, err := e.AppendArrow(ctx, st, bodies[3], 0)
	if err != nil || a.FirstID != 750 {
		t.Fatalf("append after restart: %+v, %v (want first id 750)", a, err)
	}
}
