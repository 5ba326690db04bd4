package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/base"
)

// TestEvents: untyped events get dense ids and non-decreasing timestamps;
// forced timestamps and [n] follow SPEC 4.2; they survive a restart (WAL
// replay) and a flush, with their content type, type and bytes.
func TestEvents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var now int64 = 1_800_000_000_000
	opts := Options{DataDir: dir, manualFlush: true, Now: func() time.Time { return time.UnixMilli(now) }}
	e, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	name := base.StreamName{Account: "user", Name: "stream"}
	st, err := e.CreateEventStream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateTopic(ctx, name, eventsPayload); !errors.Is(err, base.ErrConflict) && !errors.Is(err, base.ErrInvalid) {
		t.Fatalf("a topic over an event stream: %v", err)
	}
	f := func(ev Event, wantID int64, wantErr error) {
		t.Helper()
		id, err := e.AppendEvent(ctx, st, ev)
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("append %+v: %v, want %v", ev, err, wantErr)
			}
			return
		}
		if err != nil || id != wantID {
			t.Fatalf("append %+v = %d, %v; want %d", ev, id, err, wantID)
		}
	}
	f(Event{ContentType: "text/plain", Data: []byte("Hello, world!"), Index: -1}, 0, nil)
	f(Event{ContentType: "application/json", Type: "click", Data: []byte(`{"x":1}`), Index: 1}, 1, nil)
	f(Event{ContentType: "text/plain", Data: []byte("again"), Index: 1}, 0, base.ErrConflict) // not the next id
	f(Event{ContentType: "text/plain", Data: []byte("future"), TS: now + 60_000, Forced: true, Index: -1}, 2, nil)
	f(Event{ContentType: "text/plain", Data: []byte("past"), TS: now, Forced: true, Index: -1}, 0, base.ErrConflict)
	f(Event{ContentType: "text/plain", Data: []byte("unstamped"), Index: -1}, 3, nil) // gets the future ts
	f(Event{ContentType: "text/plain", Data: make([]byte, MaxEventBytes+1), Index: -1}, 0, base.ErrTooLarge)
	if _, err := e.AppendArrow(ctx, st, []byte("x"), 0); !errors.Is(err, base.ErrUnsupported) {
		t.Fatalf("Arrow into an event stream: %v", err)
	}
	check := func(stage string) {
		t.Helper()
		snap := st.Snapshot()
		defer snap.Release()
		if snap.NextID != 4 {
			t.Fatalf("%s: next id %d", stage, snap.NextID)
		}
		var rows []string
		var tss []int64
		collect := func(recs []arrow.RecordBatch) {
			for _, r := range recs {
				ids := r.Column(0).(*array.Int64)
				ts := r.Column(1).(*array.Timestamp)
				ev := r.Column(2).(*array.String)
				ct := r.Column(5).(*array.String)
				data := r.Column(6).(*array.Binary)
				for i := 0; i < ids.Len(); i++ {
					rows = append(rows, ev.Value(i)+"|"+ct.Value(i)+"|"+string(data.Value(i)))
					tss = append(tss, int64(ts.Value(i)))
				}
			}
		}
		for _, s := range snap.Manifest.Segments {
			recs, err := e.readSegment(ctx, s.Key)
			if err != nil {
				t.Fatal(err)
			}
			collect(recs)
		}
		var tail []arrow.RecordBatch
		for _, b := range snap.Tail {
			tail = append(tail, b.Record())
		}
		collect(tail)
		want := []string{"text/plain|text/plain|Hello, world!", `click|application/json|{"x":1}`,
			"text/plain|text/plain|future", "text/plain|text/plain|unstamped"}
		if len(rows) != len(want) {
			t.Fatalf("%s: rows %q", stage, rows)
		}
		for i := range want {
			if rows[i] != want[i] {
				t.Fatalf("%s: row %d = %q, want %q", stage, i, rows[i], want[i])
			}
		}
		if tss[0] != now || tss[2] != now+60_000 || tss[3] != now+60_000 {
			t.Fatalf("%s: timestamps %v", stage, tss)
		}
	}
	check("tail")
	// A restart without a flush: the WAL brings them back.
	e.log.Close()
	e.lock.Close()
	e, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st, _ = e.Stream(name)
	check("replayed")
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("flushed")
	if id, err := e.AppendEvent(ctx, st, Event{ContentType: "text/plain", Data: []byte("after"), Index: -1}); err != nil || id != 4 {
		t.Fatalf("append after restart: %d %v", id, err)
	}
}

// TestEventsConcurrent: many writers on one stream never see a duplicated
// or skipped id.
func TestEventsConcurrent(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, Options{DataDir: t.TempDir(), Flush: FlushOptions{MaxRows: 300}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st, err := e.CreateEventStream(ctx, base.StreamName{Account: "a", Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	const writers, per = 16, 100
	seen := make([]bool, writers*per)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				id, err := e.AppendEvent(ctx, st, Event{ContentType: "text/plain", Data: []byte("x"), Index: -1})
				if err != nil || id < 0 || id >= writers*per {
					t.Errorf("append: %d %v", id, err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("id %d given twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for id, ok := range seen {
		if !ok {
			t.Fatalf("id %d skipped", id)
		}
	}
}

// TestBulkReplay: a bulk append is one WAL record: after a restart its
// events come back whole, each with its own type and timestamp; a bulk with
// a bad timestamp appends nothing.
func TestBulkReplay(t *testing.T) {
	ctx := context.Background()
	name := base.StreamName{Account: "a", Name: "bulk"}
	e, st, opts := openEvents(t, name)
	evs := []Event{
		{ContentType: "text/plain", Data: []byte("one"), Index: 0},
		{ContentType: "application/json", Type: "order", Data: []byte(`{}`), Index: -1, TS: 4_000_000_000_000, Forced: true},
		{ContentType: "text/plain", Data: []byte("three"), Index: -1},
	}
	ids, err := e.AppendEvents(ctx, st, evs)
	if err != nil || len(ids) != 3 || ids[2] != 2 {
		t.Fatalf("AppendEvents = %v, %v", ids, err)
	}
	bad := []Event{{ContentType: "text/plain", Data: []byte("x"), Index: -1},
		{ContentType: "text/plain", Data: []byte("y"), Index: -1, TS: 1, Forced: true}}
	if _, err := e.AppendEvents(ctx, st, bad); !errors.Is(err, base.ErrConflict) {
		t.Fatalf("bulk with an old timestamp: %v", err)
	}
	e.log.Close()
	e.lock.Close()
	if e, err = Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st, _ = e.Stream(name)
	snap := st.Snapshot()
	defer snap.Release()
	if snap.NextID != 3 || len(snap.Tail) != 3 {
		t.Fatalf("after replay: next %d, %d batches", snap.NextID, len(snap.Tail))
	}
	if b := snap.Tail[1]; b.Event != "order" || b.TS != 4_000_000_000_000 {
		t.Fatalf("second event: type %q ts %d", b.Event, b.TS)
	}
	if b := snap.Tail[2]; b.TS != 4_000_000_000_000 || b.Event != "text/plain" {
		t.Fatalf("third event takes the latest timestamp: type %q ts %d", b.Event, b.TS)
	}
}
