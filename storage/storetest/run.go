package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
)

// Run runs the Store contract's tests as subtests of t. open returns a fresh,
// empty store for one subtest; it may register cleanups on that subtest's t
// (for example to check that no temporary file is left behind).
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, st storage.Store)
	}{
		{"CreateCommitAbort", testCreateCommitAbort},
		{"CommitReplaces", testCommitReplaces},
		{"PutIfAbsentRace", testPutIfAbsentRace},
		{"OpenSizeReadAt", testOpenSizeReadAt},
		{"ListDelete", testListDelete},
		{"InvalidKeys", testInvalidKeys},
		{"ContextCancelled", testContextCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open(t)) })
	}
}

// testCreateCommitAbort: nothing is visible before Commit, Commit makes the
// whole object visible, Abort leaves nothing, and a writer ends exactly once.
func testCreateCommitAbort(t *testing.T, st storage.Store) {
	ctx := t.Context()
	const key = "streams/demo/events/a.parquet"
	w, err := st.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hello ", "world"} {
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Open(ctx, key); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open before commit: got %v, want ErrNotFound", err)
	}
	for _, prefix := range []string{"", "streams/", "streams/demo/events/"} {
		if keys, err := st.List(ctx, prefix); err != nil || len(keys) != 0 {
			t.Fatalf("list %q before commit: %v, %v", prefix, keys, err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort after commit: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after commit succeeded")
	}
	if err := w.Commit(); err == nil {
		t.Fatal("second commit succeeded")
	}
	if got := ReadAll(t, st, key); string(got) != "hello world" {
		t.Fatalf("content %q", got)
	}

	const aborted = "streams/demo/events/b.parquet"
	w, err = st.Create(ctx, aborted)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "discard me")
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err == nil {
		t.Fatal("commit after abort succeeded")
	}
	if _, err := st.Open(ctx, aborted); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open of aborted object: got %v, want ErrNotFound", err)
	}
	if got, err := st.List(ctx, "streams/demo/events/"); err != nil || !slices.Equal(got, []string{key}) {
		t.Fatalf("list after abort: %v, %v", got, err)
	}
}

// testCommitReplaces: committing over an existing key replaces its object
// whole, and a writer still open does not disturb the committed object.
func testCommitReplaces(t *testing.T, st storage.Store) {
	ctx := t.Context()
	const key = "streams/demo/events/a.parquet"
	put := func(content string) storage.ObjectWriter {
		t.Helper()
		w, err := st.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
		return w
	}
	if err := put("a longer first version").Commit(); err != nil {
		t.Fatal(err)
	}
	pending := put("pending")
	defer pending.Abort()
	if got := ReadAll(t, st, key); string(got) != "a longer first version" {
		t.Fatalf("content with a writer pending %q", got)
	}
	if err := put("replaced").Commit(); err != nil {
		t.Fatal(err)
	}
	if got := ReadAll(t, st, key); string(got) != "replaced" {
		t.Fatalf("content after replace %q", got)
	}
	if err := pending.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := ReadAll(t, st, key); string(got) != "replaced" {
		t.Fatalf("content after aborting the pending writer %q", got)
	}
}

// testPutIfAbsentRace: exactly one of N racing creators wins, the others get
// ErrExists, the winner's bytes are stored, and a later put loses too.
func testPutIfAbsentRace(t *testing.T, st storage.Store) {
	ctx := t.Context()
	const key = "streams/demo/events/_manifest/00000000000000000001.json"
	data := make([][]byte, 8)
	for i := range data {
		// Distinct lengths and bytes, so a mix of two writers shows.
		data[i] = bytes.Repeat([]byte{byte('a' + i)}, 100+i)
	}
	winner := RacePut(t, ctx, st, key, data)
	if got := ReadAll(t, st, key); !bytes.Equal(got, data[winner]) {
		t.Fatalf("content %q is not the winner's (%d)", got, winner)
	}
	if got, err := st.List(ctx, "streams/demo/events/_manifest/"); err != nil || !slices.Equal(got, []string{key}) {
		t.Fatalf("list after race: %v, %v", got, err)
	}
	if err := st.PutIfAbsent(ctx, key, []byte("late")); !errors.Is(err, storage.ErrExists) || !errors.Is(err, base.ErrConflict) {
		t.Fatalf("late put: %v, want ErrExists", err)
	}
	if got := ReadAll(t, st, key); !bytes.Equal(got, data[winner]) {
		t.Fatal("a losing late put changed the content")
	}
}

// testOpenSizeReadAt: Size and random-access reads of committed objects,
// the empty object included, and ErrNotFound for a missing key.
func testOpenSizeReadAt(t *testing.T, st storage.Store) {
	ctx := t.Context()
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	const big, empty = "d/big", "d/empty"
	w, err := st.Create(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(ctx, empty, nil); err != nil {
		t.Fatal(err)
	}

	obj, err := st.Open(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if obj.Size() != int64(len(data)) {
		t.Fatalf("size %d, want %d", obj.Size(), len(data))
	}
	for _, tc := range []struct {
		off, n int
		want   int   // bytes read
		err    error // nil or io.EOF
	}{
		{0, 10, 10, nil},
		{123_457, 65_536, 65_536, nil},
		{len(data) - 5, 5, 5, nil},
		{len(data) - 5, 10, 5, io.EOF},
		{len(data), 1, 0, io.EOF},
	} {
		buf := make([]byte, tc.n)
		n, err := obj.ReadAt(buf, int64(tc.off))
		if n != tc.want || (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d, %v", tc.n, tc.off, n, err, tc.want, tc.err)
		}
		if !bytes.Equal(buf[:n], data[tc.off:tc.off+n]) {
			t.Fatalf("ReadAt(%d bytes at %d): wrong bytes", tc.n, tc.off)
		}
	}
	// Concurrent readers of one Object each see their own range.
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			off := i * 70_000
			buf := make([]byte, 50_000)
			if _, err := obj.ReadAt(buf, int64(off)); err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(buf, data[off:off+len(buf)]) {
				errs <- errors.New("concurrent ReadAt: wrong bytes")
				return
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	e, err := st.Open(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Size() != 0 {
		t.Fatalf("empty object size %d", e.Size())
	}
	if _, err := st.Open(ctx, "d/missing"); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open missing: %v, want ErrNotFound", err)
	}
	if err := obj.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// testListDelete: List returns the direct children of a prefix, sorted, and
// not uncommitted objects; Delete removes, and deleting a missing key is not
// an error.
func testListDelete(t *testing.T, st storage.Store) {
	ctx := t.Context()
	keys := []string{
		"streams/demo/events/b.parquet",
		"streams/demo/events/a.parquet",
		"streams/demo/events/_manifest/00000000000000000001.json",
		"streams/demo/events/sub=x/a.parquet",
		"streams/demo/other/a.parquet",
	}
	for _, k := range keys {
		if err := st.PutIfAbsent(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	w, err := st.Create(ctx, "streams/demo/events/c.parquet") // uncommitted: not listed
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()

	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		// Direct children only: not _manifest/ nor sub=x/.
		{"streams/demo/events/", []string{"streams/demo/events/a.parquet", "streams/demo/events/b.parquet"}},
		{"streams/demo/events/_manifest/", []string{"streams/demo/events/_manifest/00000000000000000001.json"}},
		{"streams/demo/events/sub=x/", []string{"streams/demo/events/sub=x/a.parquet"}},
		{"streams/demo/other/", []string{"streams/demo/other/a.parquet"}},
		{"streams/demo/", nil},
		{"streams/nothing/", nil},
		{"", nil},
	} {
		checkList(t, st, tc.prefix, tc.want...)
	}
	for _, k := range keys {
		if got := ReadAll(t, st, k); string(got) != k {
			t.Fatalf("content of %s: %q", k, got)
		}
	}

	const gone = "streams/demo/events/a.parquet"
	if err := st.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, gone); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if err := st.Delete(ctx, "never/was"); err != nil {
		t.Fatalf("delete of a key never written: %v", err)
	}
	if _, err := st.Open(ctx, gone); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open deleted: %v", err)
	}
	checkList(t, st, "streams/demo/events/", "streams/demo/events/b.parquet")
	checkList(t, st, "streams/demo/other/", "streams/demo/other/a.parquet")
	// A deleted key can be created again.
	if err := st.PutIfAbsent(ctx, gone, []byte("again")); err != nil {
		t.Fatalf("put after delete: %v", err)
	}
	if got := ReadAll(t, st, gone); string(got) != "again" {
		t.Fatalf("content after re-put %q", got)
	}
}

func checkList(t *testing.T, st storage.Store, prefix string, want ...string) {
	t.Helper()
	got, err := st.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	if !slices.Equal(got, want) { // nil and empty are equal here
		t.Fatalf("list %q = %v, want %v", prefix, got, want)
	}
}

// testInvalidKeys: every method refuses malformed keys and prefixes with
// base.ErrInvalid.
func testInvalidKeys(t *testing.T, st storage.Store) {
	ctx := t.Context()
	for _, key := range []string{"", "/abs", "a/", "a//b", "a/../b", "./a", "a/.", "a\\b", "a\x00b", "x.parquet.tmp0123456789abcdef"} {
		if err := st.PutIfAbsent(ctx, key, nil); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("PutIfAbsent(%q) = %v, want ErrInvalid", key, err)
		}
		if w, err := st.Create(ctx, key); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("Create(%q) = %v, want ErrInvalid", key, err)
			if w != nil {
				w.Abort()
			}
		}
		if _, err := st.Open(ctx, key); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", key, err)
		}
		if err := st.Delete(ctx, key); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("Delete(%q) = %v, want ErrInvalid", key, err)
		}
	}
	for _, prefix := range []string{"a", "/a/", "a/../", "a//", "./", "a\\b/"} {
		if _, err := st.List(ctx, prefix); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("List(%q) = %v, want ErrInvalid", prefix, err)
		}
	}
}

// testContextCancelled: every method of the store returns the context's
// error, and does nothing, when called with a cancelled context.
func testContextCancelled(t *testing.T, st storage.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	const key = "streams/demo/events/a.parquet"
	if err := st.PutIfAbsent(ctx, key, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutIfAbsent: %v", err)
	}
	if w, err := st.Create(ctx, key); !errors.Is(err, context.Canceled) {
		if w != nil {
			w.Abort()
		}
		t.Fatalf("Create: %v", err)
	}
	if _, err := st.Open(ctx, key); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open: %v", err)
	}
	if _, err := st.List(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("List: %v", err)
	}
	if err := st.Delete(ctx, key); !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete: %v", err)
	}
	// Nothing was written.
	if _, err := st.Open(t.Context(), key); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open after cancelled put: %v, want ErrNotFound", err)
	}
}
