package query

import (
	"context"
	"math"
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

// TestRangeReadPrunes: a stream of 20 segments and a tail; a read of 1,000
// rows opens only the segments that hold them, and reads cross the segment
// and tail boundary without losing or repeating a row.
func TestRangeReadPrunes(t *testing.T) {
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
	defer eng.Close(ctx)
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
	defer snap.Release()
	if len(snap.Manifest.Segments) != bodies-1 || len(snap.Tail) != 1 {
		t.Fatalf("%d segments and %d tail batches, want %d and 1", len(snap.Manifest.Segments), len(snap.Tail), bodies-1)
	}
	f := func(from, to, limit int64, wantOpens int64) {
		t.Helper()
		r := AllRange()
		r.From, r.To, r.Limit = from, to, limit
		store.opens.Store(0)
		next := from
		err := Read(ctx, store, snap, r, func(rec arrow.RecordBatch) error {
			ids := rec.Column(0).(*array.Int64)
			vals := rec.Column(int(rec.NumCols()) - 1).(*array.Float64)
			for i := 0; i < ids.Len(); i++ {
				if ids.Value(i) != next || vals.Value(i) != segmenttest.Value(next) {
					t.Fatalf("[%d,%d): row %d has id %d value %v", from, to, next, ids.Value(i), vals.Value(i))
				}
				next++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := max(from, min(to, snap.NextID))
		if limit > 0 {
			want = min(want, from+limit)
		}
		if next != want {
			t.Fatalf("[%d,%d) limit %d: read up to %d, want %d", from, to, limit, next, want)
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
