package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

func TestCompactRun(t *testing.T) {
	seg := func(rows int64) manifest.Segment { return manifest.Segment{Rows: rows} }
	f := func(rows []int64, lo, hi int) {
		t.Helper()
		var segs []manifest.Segment
		for _, r := range rows {
			segs = append(segs, seg(r))
		}
		if l, h := compactRun(segs, 1000); l != lo || h != hi {
			t.Fatalf("compactRun(%v) = %d, %d; want %d, %d", rows, l, h, lo, hi)
		}
	}
	f([]int64{250, 250, 250, 250, 250}, 0, 4) // up to max_rows
	f([]int64{1000, 250, 250}, 1, 3)          // big segments stay
	f([]int64{250, 1000, 250}, 0, 0)          // not adjacent
	f([]int64{499, 499, 499}, 0, 2)
	f([]int64{500, 100}, 0, 0) // half of max_rows is not small
	f(nil, 0, 0)
}

// TestCompaction: small adjacent segments are merged into larger ones with
// the same ids and rows; the old objects go after the grace period.
func TestCompaction(t *testing.T) {
	ctx := context.Background()
	e, st, bodies := openDemo(t, Options{Flush: FlushOptions{MaxRows: 1000}, manualFlush: true,
		RetentionInterval: time.Minute})
	for _, b := range bodies[:6] {
		if _, err := e.AppendArrow(ctx, st, b, 0); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	old := append([]manifest.Segment(nil), st.Snapshot().Manifest.Segments...)
	if len(old) != 6 {
		t.Fatalf("%d segments before compaction", len(old))
	}
	for _, want := range []int{4, 2, 0} {
		n, err := e.compact(ctx, st)
		if err != nil || n != want {
			t.Fatalf("compact = %d, %v; want %d", n, err, want)
		}
	}
	snap := st.Snapshot()
	defer snap.Release()
	segs := snap.Manifest.Segments
	if len(segs) != 2 || segs[0].Rows != 1000 || segs[1].Rows != 500 || snap.NextID != 1500 {
		t.Fatalf("after compaction: %+v", segs)
	}
	next := int64(0)
	for _, s := range segs {
		recs, err := e.readSegment(ctx, s.Key)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			ids := r.Column(0).(*array.Int64)
			vals := r.Column(int(r.NumCols()) - 1).(*array.Float64)
			for i := 0; i < ids.Len(); i++ {
				if ids.Value(i) != next || vals.Value(i) != segmenttest.Value(next) {
					t.Fatalf("row %d: id %d value %v", next, ids.Value(i), vals.Value(i))
				}
				next++
			}
			r.Release()
		}
	}
	if next != 1500 {
		t.Fatalf("read %d rows", next)
	}
	e.deleteDoomed(ctx, e.opts.Now().Add(2*time.Minute))
	for _, s := range old {
		if _, err := e.store.Open(ctx, s.Key); !errors.Is(err, base.ErrNotFound) {
			t.Fatalf("old segment %s still there: %v", s.Key, err)
		}
	}
}

// TestRemoveOrphansAtOpen: at a restart, segments that compaction replaced
// (still awaiting their grace period) and those of a flush that never
// committed are deleted, and the log tells the two apart: only the second
// is a warning.
func TestRemoveOrphansAtOpen(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	opts := Options{Flush: FlushOptions{MaxRows: 1000}, manualFlush: true, RetentionInterval: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	e, st, bodies := openDemo(t, opts)
	for _, b := range bodies[:3] {
		if _, err := e.AppendArrow(ctx, st, b, 0); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	replaced := append([]manifest.Segment(nil), st.Snapshot().Manifest.Segments...)
	if n, err := e.compact(ctx, st); err != nil || n != 3 {
		t.Fatalf("compact = %d, %v", n, err)
	}
	uncommitted := fmt.Sprintf("%s%020d-%020d.parquet", st.prefix, 750, 999)
	if err := e.store.PutIfAbsent(ctx, uncommitted, []byte("PAR1")); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	opts.DataDir = e.opts.DataDir
	e2, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close(ctx)
	if _, err := e2.Stream(base.StreamName{Account: "demo", Name: "events"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range append([]string{uncommitted}, replaced[0].Key, replaced[1].Key, replaced[2].Key) {
		if _, err := e2.store.Open(ctx, k); !errors.Is(err, base.ErrNotFound) {
			t.Errorf("%s still there after the restart: %v", k, err)
		}
	}
	var warn, info int
	for _, line := range strings.Split(logs.String(), "\n") {
		switch {
		case strings.Contains(line, "level=WARN") && strings.Contains(line, "uncommitted segment"):
			warn++
			if !strings.Contains(line, uncommitted) {
				t.Errorf("warning for a segment that was not the uncommitted one: %s", line)
			}
		case strings.Contains(line, "level=INFO") && strings.Contains(line, "replaced segment"):
			info++
		}
	}
	if warn != 1 || info != 3 {
		t.Fatalf("%d warnings and %d infos, want 1 and 3; log:\n%s", warn, info, logs.String())
	}
}
