package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// demoBodies returns n IPC stream bodies of rows demo rows each.
func demoBodies(t *testing.T, n int, rows int64) ([][]byte, *arrow.Schema) {
	t.Helper()
	var out [][]byte
	for i := 0; i < n; i++ {
		b, err := segmenttest.DemoIPC(int64(i)*rows, rows)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out, segmenttest.DemoPayload()
}

// openEvents opens an engine with manual flushes on a fresh data dir and
// creates the event stream name in it. The caller closes the engine; opts
// reopen the same dir.
func openEvents(t *testing.T, name base.StreamName) (e *Engine, st *Stream, opts Options) {
	t.Helper()
	ctx := context.Background()
	opts = Options{DataDir: t.TempDir(), manualFlush: true}
	e, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st, err = e.CreateEventStream(ctx, name); err != nil {
		e.Close(ctx)
		t.Fatal(err)
	}
	return e, st, opts
}

func openDemo(t *testing.T, opts Options) (*Engine, *Stream, [][]byte) {
	t.Helper()
	opts.DataDir = t.TempDir()
	e, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	bodies, payload := demoBodies(t, 20, 250)
	st, err := e.CreateTopic(context.Background(), base.StreamName{Account: "demo", Name: "events"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	return e, st, bodies
}

// TestFlushSegmentSize: a flush writes segments of at most about
// flush.max_rows rows, contiguous, and the manifest covers every row.
func TestFlushSegmentSize(t *testing.T) {
	ctx := context.Background()
	e, st, bodies := openDemo(t, Options{Flush: FlushOptions{MaxRows: 1000}, manualFlush: true})
	for _, b := range bodies {
		if _, err := e.AppendArrow(ctx, st, b, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	defer snap.Release()
	if snap.NextID != 5000 || len(snap.Tail) != 0 {
		t.Fatalf("after flush: next %d, tail %d batches", snap.NextID, len(snap.Tail))
	}
	segs := snap.Manifest.Segments
	if len(segs) != 5 {
		t.Fatalf("%d segments, want 5 of 1000 rows", len(segs))
	}
	var next int64
	for _, s := range segs {
		if s.FirstID != next || s.Rows > 1000 || s.Rows != s.LastID-s.FirstID+1 {
			t.Fatalf("segment %+v after id %d", s, next)
		}
		next = s.LastID + 1
	}
}

// TestMemoryBudget: over the budget, appends are refused with 503 and a
// retry hint, nothing acknowledged is dropped, and after a flush appends
// are accepted again.
func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	e, st, bodies := openDemo(t, Options{MemoryBudget: 1 << 20, manualFlush: true})
	var acked int64
	var refused error
	for i := 0; i < 1000 && refused == nil; i++ {
		a, err := e.AppendArrow(ctx, st, bodies[i%len(bodies)], 0)
		if err != nil {
			refused = err
			break
		}
		acked += a.Rows
	}
	if !errors.Is(refused, base.ErrOverCapacity) || base.RetryAfter(refused) <= 0 {
		t.Fatalf("over budget: %v (retry %d ms), want ErrOverCapacity with a hint", refused, base.RetryAfter(refused))
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AppendArrow(ctx, st, bodies[0], 0); err != nil {
		t.Fatalf("after flush: %v", err)
	}
	if got := st.Stats().NextID; got != acked+250 {
		t.Fatalf("next id %d, want %d", got, acked+250)
	}
}
