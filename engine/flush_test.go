package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/vfs"
)

// flakyStore fails every failEvery-th segment Create.
type flakyStore struct {
	*storage.Local
	failEvery int64
	creates   atomic.Int64
	failures  atomic.Int64
}

func (f *flakyStore) Create(ctx context.Context, key string) (storage.ObjectWriter, error) {
	if n := f.creates.Add(1); f.failEvery > 0 && n%f.failEvery == 0 {
		f.failures.Add(1)
		return nil, errors.New("injected: disk on fire")
	}
	return f.Local.Create(ctx, key)
}

// TestPipelinedFlushWithFailures: four flush workers pipeline on one stream
// while every third segment write fails. Every row ends up in exactly one
// committed segment, segments are contiguous and none is over the row limit,
// and readers see every row exactly once throughout.
func TestPipelinedFlushWithFailures(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	local, err := storage.NewLocal(dir, vfs.OS{})
	if err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{Local: local, failEvery: 3}
	e, err := Open(ctx, Options{DataDir: dir, Store: store, FlushWorkers: 4,
		Flush: FlushOptions{MaxRows: 500, MaxAge: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	bodies, payload := demoBodies(t, 40, 250)
	st, err := e.CreateTopic(ctx, base.StreamName{Account: "demo", Name: "events"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot := func() int64 {
		snap := st.Snapshot()
		defer snap.Release()
		next := int64(0)
		for _, s := range snap.Manifest.Segments {
			if s.FirstID != next || s.Rows > 500 {
				t.Fatalf("segment %+v after id %d", s, next)
			}
			next = s.LastID + 1
		}
		for _, b := range snap.Tail {
			if b.FirstID != next {
				t.Fatalf("tail batch at %d after id %d", b.FirstID, next)
			}
			next = b.LastID() + 1
		}
		if next != snap.NextID {
			t.Fatalf("snapshot covers ids up to %d, next id is %d", next, snap.NextID)
		}
		return int64(len(snap.Manifest.Segments))
	}
	for _, b := range bodies {
		if _, err := e.AppendArrow(ctx, st, b, 0); err != nil {
			t.Fatal(err)
		}
		checkSnapshot()
	}
	deadline := time.Now().Add(30 * time.Second)
	for st.Stats().BufferRows > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not flushed: %+v", st.Stats())
		}
		e.kickFlush()
		time.Sleep(5 * time.Millisecond) // polling, with a deadline
		checkSnapshot()
	}
	// 10,000 rows in segments of at most 500 (the age limit may cut one
	// short).
	if segs := checkSnapshot(); segs < 20 || segs > 40 {
		t.Fatalf("%d segments, want 20 to 40", segs)
	}
	if store.failures.Load() == 0 {
		t.Fatal("no failure was injected")
	}
	if st.Stats().NextID != 10_000 {
		t.Fatalf("next id %d", st.Stats().NextID)
	}
}
