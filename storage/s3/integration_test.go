package s3

import (
	"errors"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
	"github.com/ducktail/ducktail/storage/storetest"
)

// The manifest and segment packages work unchanged on the S3 store.

const streamPrefix = "streams/demo/events/"

func TestManifestOnS3(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	seg := func(first, last int64) manifest.Segment {
		return manifest.Segment{Key: streamPrefix + "x.parquet", FirstID: first, LastID: last, Rows: last - first + 1, Bytes: 1}
	}
	m, err := manifest.Load(ctx, st, streamPrefix)
	if err != nil || m.Version != 0 {
		t.Fatalf("load of empty prefix: %+v, %v", m, err)
	}
	m.Stream = "demo/events"
	for i := range int64(5) {
		next := *m
		next.Segments = append(append([]manifest.Segment(nil), m.Segments...), seg(i*10, i*10+9))
		if m, err = manifest.Commit(ctx, st, streamPrefix, &next); err != nil {
			t.Fatal(err)
		}
	}
	// Committing from a stale version loses. (Its content must differ from
	// the newest version's: a PutIfAbsent that finds its own bytes succeeds.)
	stale := *m
	stale.Version--
	stale.Segments = append(append([]manifest.Segment(nil), m.Segments[:4]...), seg(40, 45))
	if _, err := manifest.Commit(ctx, st, streamPrefix, &stale); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("stale commit: %v, want ErrExists", err)
	}
	// Old versions are cleaned up: 3 are left.
	if keys, err := st.List(ctx, streamPrefix+"_manifest/"); err != nil || len(keys) != 3 {
		t.Fatalf("versions left: %v, %v", keys, err)
	}

	// Concurrent commits from one version: exactly one wins.
	winner := storetest.Winner(t, storetest.Race(8, func(i int) error {
		next := *m
		next.Segments = append(append([]manifest.Segment(nil), m.Segments...), seg(50, 50+int64(i)))
		_, err := manifest.Commit(ctx, st, streamPrefix, &next)
		return err
	}))
	// A node on an empty disk loads the winner's version.
	loaded, err := manifest.Load(ctx, reopen(t, st), streamPrefix)
	if err != nil || loaded.Version != 6 || loaded.NextID() != 51+int64(winner) {
		t.Fatalf("load after race: %+v, %v (winner %d)", loaded, err, winner)
	}
}

func TestSegmentOnS3(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	const rows = 50_000
	recs := segmenttest.DemoBatches(mem, 0, rows, 8192)
	key := streamPrefix + "00000000000000000000-00000000000000049999.parquet"
	w, err := st.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	info, err := segment.Write(w, segmenttest.DemoSchema(), recs, segment.WriterOptions{Allocator: mem, RowGroupRows: 16384})
	segmenttest.Release(recs)
	if err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}

	// Read back from the writer's cache and from an empty disk.
	for _, s := range []*Store{st, reopen(t, st)} {
		obj, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if obj.Size() != info.Bytes {
			t.Fatalf("size %d, written %d", obj.Size(), info.Bytes)
		}
		r, err := segment.Open(obj, obj.Size(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadRange(ctx, 20_000, 20_100, math.MinInt64, math.MaxInt64, 0)
		if err != nil {
			t.Fatal(err)
		}
		next := int64(20_000)
		for _, rec := range got {
			ids := rec.Column(0).(*array.Int64)
			vals := rec.Column(7).(*array.Float64)
			for i := range ids.Len() {
				if ids.Value(i) != next || vals.Value(i) != segmenttest.Value(next) {
					t.Fatalf("row of id %d: id %d value %v", next, ids.Value(i), vals.Value(i))
				}
				next++
			}
		}
		segmenttest.Release(got)
		if next != 20_100 || r.NumRows() != rows {
			t.Fatalf("read ids up to %d, rows %d", next, r.NumRows())
		}
		r.Close()
		obj.Close()
	}
}
