package storage

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/vfs"
)

// errFS is vfs.OS with one failing operation: op ("sync", "rename",
// "syncdir", "create") on a path containing match. It has no Link, so Local
// uses its in-process fallback for PutIfAbsent.
type errFS struct {
	vfs.OS
	op, match string
}

var errInjected = errors.New("injected failure")

func (e errFS) hit(op, path string) bool { return e.op == op && strings.Contains(path, e.match) }

func (e errFS) Create(name string) (vfs.File, error) {
	if e.hit("create", name) {
		return nil, errInjected
	}
	f, err := e.OS.Create(name)
	if err != nil {
		return nil, err
	}
	return errFile{File: f, fail: e.hit("sync", name)}, nil
}

func (e errFS) Rename(oldname, newname string) error {
	if e.hit("rename", newname) {
		return errInjected
	}
	return e.OS.Rename(oldname, newname)
}

func (e errFS) SyncDir(dir string) error {
	if e.hit("syncdir", dir) {
		return errInjected
	}
	return e.OS.SyncDir(dir)
}

type errFile struct {
	vfs.File
	fail bool
}

func (f errFile) Sync() error {
	if f.fail {
		return errInjected
	}
	return f.File.Sync()
}

func newLocal(t *testing.T, fsys vfs.FS) *Local {
	t.Helper()
	l, err := NewLocal(t.TempDir(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func readAll(t *testing.T, st Store, key string) string {
	t.Helper()
	obj, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// filesUnder lists every file under dir, temporary ones included.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestLocalCreateCommitAbort(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, nil)
	const key = "streams/demo/events/a.parquet"

	w, err := l.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "hello "); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "world"); err != nil {
		t.Fatal(err)
	}
	// Not visible before Commit.
	if _, err := l.Open(ctx, key); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open before commit: got %v, want ErrNotFound", err)
	}
	if keys, _ := l.List(ctx, "streams/"); len(keys) != 0 {
		t.Fatalf("list before commit: %v", keys)
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
	if got := readAll(t, l, key); got != "hello world" {
		t.Fatalf("content %q", got)
	}
	if _, err := os.Stat(l.Path(key)); err != nil {
		t.Fatalf("Path: %v", err)
	}

	// Abort leaves nothing, not even the temporary file.
	w, err = l.Create(ctx, "streams/demo/events/b.parquet")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "discard me")
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := filesUnder(t, l.Root()); !slices.Equal(got, []string{key}) {
		t.Fatalf("files after abort: %v", got)
	}
}

func TestLocalPutIfAbsentRace(t *testing.T) {
	for _, tc := range []struct {
		name string
		fsys vfs.FS
	}{
		{"os-link", vfs.OS{}},
		{"fallback", errFS{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			l := newLocal(t, tc.fsys)
			const key = "streams/demo/events/_manifest/00000000000000000001.json"
			const n = 8
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = l.PutIfAbsent(ctx, key, []byte{byte('a' + i)})
				}()
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("writers %d and %d both won", winner, i)
					}
					winner = i
				case !errors.Is(err, ErrExists) || !errors.Is(err, base.ErrConflict):
					t.Fatalf("writer %d: %v, want ErrExists", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			if got := readAll(t, l, key); got != string(rune('a'+winner)) {
				t.Fatalf("content %q, winner %d", got, winner)
			}
			if got := filesUnder(t, l.Root()); len(got) != 1 {
				t.Fatalf("files: %v", got)
			}
		})
	}
}

func TestLocalListDelete(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, nil)
	keys := []string{
		"streams/demo/events/b.parquet",
		"streams/demo/events/a.parquet",
		"streams/demo/events/_manifest/00000000000000000001.json",
		"streams/demo/events/sub=x/a.parquet",
		"streams/demo/other/a.parquet",
	}
	for _, k := range keys {
		if err := l.PutIfAbsent(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := l.Create(ctx, "streams/demo/events/c.parquet") // uncommitted: not listed
	defer w.Abort()

	list := func(prefix string) []string {
		t.Helper()
		got, err := l.List(ctx, prefix)
		if err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
		return got
	}
	f := func(prefix string, want ...string) {
		t.Helper()
		if got := list(prefix); !slices.Equal(got, want) {
			t.Fatalf("list %q = %v, want %v", prefix, got, want)
		}
	}
	// Direct children only: not _manifest/ nor sub=x/.
	f("streams/demo/events/",
		"streams/demo/events/a.parquet",
		"streams/demo/events/b.parquet")
	f("streams/demo/events/_manifest/", "streams/demo/events/_manifest/00000000000000000001.json")
	f("streams/demo/events/sub=x/", "streams/demo/events/sub=x/a.parquet")
	f("streams/demo/other/", "streams/demo/other/a.parquet")
	f("streams/nothing/")
	f("")

	if err := l.Delete(ctx, "streams/demo/events/a.parquet"); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, "streams/demo/events/a.parquet"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := l.Open(ctx, "streams/demo/events/a.parquet"); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open deleted: %v", err)
	}
	f("streams/demo/other/", "streams/demo/other/a.parquet")
}

func TestLocalInvalidKeys(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, nil)
	for _, key := range []string{"", "/abs", "a/", "a//b", "a/../b", "./a", "a\\b", "x.parquet.tmp0123456789abcdef"} {
		if err := l.PutIfAbsent(ctx, key, nil); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("PutIfAbsent(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := l.Create(ctx, key); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("Create(%q) = %v, want ErrInvalid", key, err)
		}
	}
	for _, prefix := range []string{"a", "/a/", "a/../", "a//"} {
		if _, err := l.List(ctx, prefix); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("List(%q) = %v, want ErrInvalid", prefix, err)
		}
	}
}

func TestLocalFailureInjection(t *testing.T) {
	const key = "streams/demo/events/x.parquet"
	for _, tc := range []struct{ op, match string }{
		{"sync", ".tmp"},
		{"rename", "x.parquet"},
		{"syncdir", "events"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			ctx := context.Background()
			l := newLocal(t, vfs.OS{})
			// Make the directory first so that a syncdir failure hits the
			// commit, not the creation of the directory.
			if err := l.PutIfAbsent(ctx, "streams/demo/events/other", []byte("o")); err != nil {
				t.Fatal(err)
			}
			l.fsys = errFS{op: tc.op, match: tc.match}

			w, err := l.Create(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "data")
			if err := w.Commit(); !errors.Is(err, errInjected) {
				t.Fatalf("commit: %v, want the injected error", err)
			}
			if err := l.PutIfAbsent(ctx, "streams/demo/events/x.parquet", []byte("m")); !errors.Is(err, errInjected) {
				t.Fatalf("PutIfAbsent: %v, want the injected error", err)
			}
			if _, err := l.Open(ctx, key); !errors.Is(err, base.ErrNotFound) {
				t.Fatalf("open after failed commit: %v", err)
			}
			if got := filesUnder(t, l.Root()); !slices.Equal(got, []string{"streams/demo/events/other"}) {
				t.Fatalf("files left: %v", got)
			}
		})
	}
}

func TestLocalCleanTemp(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, nil)
	if err := l.PutIfAbsent(ctx, "streams/a/b/keep", []byte("k")); err != nil {
		t.Fatal(err)
	}
	w, err := l.Create(ctx, "streams/a/b/sub=1/crashed.parquet")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "partial")
	// Simulate a crash: the writer is never committed nor aborted.
	if got := filesUnder(t, l.Root()); len(got) != 2 {
		t.Fatalf("files before clean: %v", got)
	}
	if err := l.CleanTemp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := filesUnder(t, l.Root()); !slices.Equal(got, []string{"streams/a/b/keep"}) {
		t.Fatalf("files after clean: %v", got)
	}
}
