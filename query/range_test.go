package query

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
	"github.com/ducktail/ducktail/storage/vfs"
)

// countingStore counts the objects opened for reading.
type countingStore struct {
	*storage.Local
	opens atomic.Int64
}

func (c *countingStore) Open(ctx context.Context, key string) (storage.Object, error) {
	c.opens.Add(1)
	return c.Local.Open(ctx, key)
}

// segmentedStream makes a topic of 20 segments of 5,000 rows and a tail of
// 5,000 rows, in an engine over store, and returns a snapshot of it.
func segmentedStream(t *testing.T) (*countingStore, *engine.Snapshot) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	local, err := storage.NewLocal(dir, vfs.OS{})
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Local: local}
	eng, err := engine.Open(ctx, engine.Options{DataDir: dir, Store: store, Flush: engine.FlushOptions{MaxRows: 5000}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	payload := segmenttest.DemoPayload()
	st, err := eng.CreateTopic(ctx, base.StreamName{Account: "demo", Name: "events"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	const per, bodies = 5000, 21
	for i := 0; i < bodies; i++ {
		if _, err := eng.AppendArrow(ctx, st, demoBody(t, int64(i)*per, per), 0); err != nil {
			t.Fatal(err)
		}
		if i < bodies-1 {
			if err := eng.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	snap := st.Snapshot()
	t.Cleanup(snap.Release)
	if len(snap.Manifest.Segments) != bodies-1 || len(snap.Tail) != 1 {
		t.Fatalf("%d segments and %d tail batches, want %d and 1", len(snap.Manifest.Segments), len(snap.Tail), bodies-1)
	}
	return store, snap
}

// checkRows reads [from, to) (at most limit rows) with read and reports
// an error unless it got exactly the rows of the demo stream there.
func checkRows(snap *engine.Snapshot, from, to, limit int64, read func(Range, func(arrow.RecordBatch) error) error) error {
	r := AllRange()
	r.From, r.To, r.Limit = from, to, limit
	next := from
	err := read(r, func(rec arrow.RecordBatch) error {
		ids := rec.Column(0).(*array.Int64)
		vals := rec.Column(int(rec.NumCols()) - 1).(*array.Float64)
		for i := 0; i < ids.Len(); i++ {
			if ids.Value(i) != next || vals.Value(i) != segmenttest.Value(next) {
				return fmt.Errorf("[%d,%d): row %d has id %d value %v", from, to, next, ids.Value(i), vals.Value(i))
			}
			next++
		}
		return nil
	})
	if err != nil {
		return err
	}
	want := max(from, min(to, snap.NextID))
	if limit > 0 {
		want = min(want, from+limit)
	}
	if next != want {
		return fmt.Errorf("[%d,%d) limit %d: read up to %d, want %d", from, to, limit, next, want)
	}
	return nil
}

// TestRangeReadPrunes: a stream of 20 segments and a tail; a read of 1,000
// rows opens only the segments that hold them, and reads cross the segment
// and tail boundary without losing or repeating a row.
func TestRangeReadPrunes(t *testing.T) {
	ctx := context.Background()
	store, snap := segmentedStream(t)
	f := func(from, to, limit int64, wantOpens int64) {
		t.Helper()
		store.opens.Store(0)
		err := checkRows(snap, from, to, limit, func(r Range, fn func(arrow.RecordBatch) error) error {
			return Read(ctx, store, snap, r, fn)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := store.opens.Load(); got != wantOpens {
			t.Fatalf("[%d,%d): opened %d segments, want %d", from, to, got, wantOpens)
		}
	}

	f(52_000, 53_000, 0, 1)         // inside one segment
	f(54_500, 55_500, 0, 2)         // across two
	f(99_500, 100_500, 0, 1)        // last segment and the tail
	f(100_100, 101_000, 0, 0)       // tail only
	f(0, math.MaxInt64, 1000, 1)    // a limit stops after the first segment
	f(104_999, math.MaxInt64, 0, 0) // the last row
	f(200_000, math.MaxInt64, 0, 0) // past the end
}

func demoBody(t *testing.T, first, rows int64) []byte {
	t.Helper()
	b, err := segmenttest.DemoIPC(first, rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReaderReuse: a Reader keeps segment readers open between reads (a
// second read of a segment opens nothing), keeps at most its idle limit,
// and concurrent reads through one Reader, whose decoded pages share
// recycled buffers, each get exactly their own rows.
func TestReaderReuse(t *testing.T) {
	ctx := context.Background()
	store, snap := segmentedStream(t)
	const idle = 4
	rd := NewReader(store, idle)
	defer rd.Close()
	read := func(r Range, fn func(arrow.RecordBatch) error) error { return rd.Read(ctx, snap, r, fn) }

	store.opens.Store(0)
	for i := 0; i < 3; i++ {
		if err := checkRows(snap, 52_000, 53_000, 0, read); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.opens.Load(); got != 1 {
		t.Fatalf("three reads of one segment opened it %d times, want 1", got)
	}
	for from := int64(0); from < 100_000; from += 5000 {
		if err := checkRows(snap, from+10, from+20, 0, read); err != nil {
			t.Fatal(err)
		}
	}
	if got := rd.segs.idleCount(); got != idle {
		t.Fatalf("%d idle segment readers after reading 20 segments, want the limit %d", got, idle)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 1))
			for i := 0; i < 40; i++ {
				from := rng.Int64N(snap.NextID)
				if err := checkRows(snap, from, from+1+rng.Int64N(3000), 0, read); err != nil {
					errs <- err
					return
				}
			}
		}(uint64(g))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := rd.segs.idleCount(); got > idle {
		t.Fatalf("%d idle segment readers, over the limit %d", got, idle)
	}
	rd.Close()
	if got := rd.segs.idleCount(); got != 0 {
		t.Fatalf("%d idle segment readers after Close", got)
	}
	// A Reader still works after Close; it just keeps nothing.
	if err := checkRows(snap, 52_000, 53_000, 0, read); err != nil {
		t.Fatal(err)
	}
	if got := rd.segs.idleCount(); got != 0 {
		t.Fatalf("%d idle segment readers after a read past Close", got)
	}
}
