package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/base"
)

// subRows returns the (_id, _sub, data) of every row of st, from its
// segments' manifest count and its tail's records.
func subTail(t *testing.T, st *Stream) []string {
	t.Helper()
	snap := st.Snapshot()
	defer snap.Release()
	var out []string
	for _, b := range snap.Tail {
		rec := b.Record()
		sub := rec.Column(3).(*array.String)
		data := rec.Column(6).(*array.Binary)
		for i := 0; i < int(rec.NumRows()); i++ {
			s := "null"
			if sub.IsValid(i) {
				s = sub.Value(i)
			}
			out = append(out, fmt.Sprintf("%d %s %s", b.FirstID+int64(i), s, data.Value(i)))
		}
	}
	return out
}

// TestSubstreams: substreams of one factory count their ids independently,
// carry their argument in _sub, come back from the WAL into the right
// substream after a crash, flush to their own sub= folder and manifest,
// and are found again after a clean restart.
func TestSubstreams(t *testing.T) {
	ctx := context.Background()
	opts := Options{DataDir: t.TempDir(), manualFlush: true}
	e, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	name := base.StreamName{Account: "eric", Name: "events"}
	f, created, err := e.SetSettings(ctx, name, Settings{Factory: true})
	if err != nil || !created || !f.IsFactory() {
		t.Fatalf("SetSettings: %v %v %v", created, err, f)
	}
	args := []SubArg{{Literal: "1", Key: "1"}, {Literal: "'a b'", Key: "%27a%20b%27"}}
	if _, err := e.Substream(ctx, f, args[0], false); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("lookup before the first write: %v", err)
	}
	for round := 0; round < 3; round++ {
		for i, a := range args {
			sub, err := e.Substream(ctx, f, a, true)
			if err != nil {
				t.Fatal(err)
			}
			id, err := e.AppendEvent(ctx, sub, Event{ContentType: "text/plain", Data: []byte(fmt.Sprintf("r%d-s%d", round, i)), Index: -1})
			if err != nil || id != int64(round) {
				t.Fatalf("append to %s: id %d, %v; want %d", sub.Label(), id, err, round)
			}
		}
	}
	want := map[string][]string{
		"1":     {"0 1 r0-s0", "1 1 r1-s0", "2 1 r2-s0"},
		"'a b'": {"0 'a b' r0-s1", "1 'a b' r1-s1", "2 'a b' r2-s1"},
	}
	check := func(stage string, e *Engine) {
		t.Helper()
		f, err := e.Stream(name)
		if err != nil || !f.IsFactory() {
			t.Fatalf("%s: factory: %v", stage, err)
		}
		subs := e.Substreams(f)
		if len(subs) != 2 {
			t.Fatalf("%s: %d substreams", stage, len(subs))
		}
		for _, a := range args {
			sub, err := e.Substream(ctx, f, a, false)
			if err != nil {
				t.Fatalf("%s: %v", stage, err)
			}
			if got := strings.Join(subTail(t, sub), "|"); got != strings.Join(want[a.Literal], "|") {
				t.Fatalf("%s: substream %s = %s, want %s", stage, a.Literal, got, want[a.Literal])
			}
		}
	}
	check("tail", e)
	// kill -9: the WAL alone brings each event back into its substream.
	e.log.Close()
	e.lock.Close()
	if e, err = Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	check("replayed", e)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f, _ = e.Stream(name)
	for _, a := range args {
		sub, _ := e.Substream(ctx, f, a, false)
		snap := sub.Snapshot()
		segs := snap.Manifest.Segments
		snap.Release()
		wantKey := "streams/eric/events/sub=" + a.Key + "/00000000000000000000-00000000000000000002.parquet"
		if len(segs) != 1 || segs[0].Key != wantKey {
			t.Fatalf("segments of %s: %+v, want one %s", a.Literal, segs, wantKey)
		}
		if sub.Sub() != a.Literal || sub.Factory() != f {
			t.Fatalf("substream identity: %q %v", sub.Sub(), sub.Factory())
		}
	}
	if n := f.Stats().Segments; n != 0 {
		t.Fatalf("the factory itself has %d segments", n)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// A clean restart: the substreams are found from their markers, their
	// ids go on.
	if e, err = Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	f, _ = e.Stream(name)
	sub, err := e.Substream(ctx, f, args[1], false)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := e.AppendEvent(ctx, sub, Event{ContentType: "text/plain", Data: []byte("x"), Index: -1}); err != nil || id != 3 {
		t.Fatalf("append after restart: %d %v", id, err)
	}
	if st := sub.Stats(); st.Segments != 1 || st.NextID != 4 {
		t.Fatalf("after restart: %+v", st)
	}
}

// TestFactorySettings: the factory flag changes only on an empty stream,
// settings survive a restart, plain streams and topics refuse arguments.
func TestFactorySettings(t *testing.T) {
	ctx := context.Background()
	plain := base.StreamName{Account: "a", Name: "plain"}
	e, st, opts := openEvents(t, plain)
	if _, err := e.Substream(ctx, st, SubArg{Literal: "1", Key: "1"}, true); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("argument on a plain stream: %v", err)
	}
	if _, err := e.AppendEvent(ctx, st, Event{ContentType: "text/plain", Data: []byte("x"), Index: -1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.SetSettings(ctx, plain, Settings{Factory: true}); !errors.Is(err, base.ErrConflict) {
		t.Fatalf("factory on a stream with events: %v", err)
	}
	bl := Blocklist{Referers: []string{"spam.example"}, Arguments: []string{"'x'"}}
	if _, created, err := e.SetSettings(ctx, plain, Settings{Blocklist: bl}); err != nil || created {
		t.Fatalf("blocklist on a plain stream: %v %v", created, err)
	}
	fname := base.StreamName{Account: "a", Name: "fact"}
	f, _, err := e.SetSettings(ctx, fname, Settings{Factory: true, AccountRights: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Substream(ctx, f, SubArg{Literal: "'x'", Key: "x"}, true); !errors.Is(err, base.ErrInvalid) {
		t.Fatalf("a key that does not decode to the literal: %v", err)
	}
	if _, err := e.Substream(ctx, f, SubArg{Literal: "bob", Key: "bob"}, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.SetSettings(ctx, fname, Settings{}); !errors.Is(err, base.ErrConflict) {
		t.Fatalf("unsetting factory with substreams: %v", err)
	}
	e.Close(ctx)
	if e, err = Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st, _ = e.Stream(plain)
	if got := st.Settings().Blocklist; len(got.Referers) != 1 || got.Arguments[0] != "'x'" || st.IsFactory() {
		t.Fatalf("plain settings after restart: %+v", st.Settings())
	}
	f, _ = e.Stream(fname)
	if !f.IsFactory() || f.Settings().AccountRights != "w" || len(e.Substreams(f)) != 1 {
		t.Fatalf("factory after restart: %+v, %d substreams", f.Settings(), len(e.Substreams(f)))
	}
	if sub := e.Substreams(f)[0]; sub.Settings() != f.Settings() || sub.IsFactory() {
		t.Fatal("a substream has its factory's settings and is no factory")
	}
}

// TestMaxSubstreams: a factory makes at most Options.MaxSubstreams
// substreams; past it new arguments are refused and existing substreams
// keep taking writes.
func TestMaxSubstreams(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, Options{DataDir: t.TempDir(), manualFlush: true, MaxSubstreams: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	f, _, err := e.SetSettings(ctx, base.StreamName{Account: "eric", Name: "events"}, Settings{Factory: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, lit := range []string{"1", "2"} {
		if _, err := e.Substream(ctx, f, SubArg{Literal: lit, Key: lit}, true); err != nil {
			t.Fatalf("substream %s: %v", lit, err)
		}
	}
	if _, err := e.Substream(ctx, f, SubArg{Literal: "3", Key: "3"}, true); !errors.Is(err, base.ErrForbidden) || !strings.Contains(err.Error(), "max_substreams") {
		t.Fatalf("a third substream: %v, want ErrForbidden naming max_substreams", err)
	}
	sub, err := e.Substream(ctx, f, SubArg{Literal: "2", Key: "2"}, true)
	if err != nil {
		t.Fatalf("an existing substream past the limit: %v", err)
	}
	if _, err := e.AppendEvent(ctx, sub, Event{ContentType: "text/plain", Data: []byte("x"), Index: -1}); err != nil {
		t.Fatal(err)
	}
}
