package storage_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/storetest"
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

func newLocal(t *testing.T, fsys vfs.FS) *storage.Local {
	t.Helper()
	l, err := storage.NewLocal(t.TempDir(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	return l
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

// TestLocalStore runs the Store contract's suite on Local, with os.Link and
// with the in-process fallback for PutIfAbsent, checking after every subtest
// that no temporary file is left.
func TestLocalStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		fsys vfs.FS
	}{
		{"os-link", vfs.OS{}},
		{"fallback", errFS{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storage.Store {
				l := newLocal(t, tc.fsys)
				t.Cleanup(func() {
					for _, f := range filesUnder(t, l.Root()) {
						if strings.Contains(path.Base(f), ".tmp") {
							t.Errorf("temporary file left: %s", f)
						}
					}
				})
				return l
			})
		})
	}
}

func TestLocalPath(t *testing.T) {
	l := newLocal(t, nil)
	const key = "streams/demo/events/a.parquet"
	if err := l.PutIfAbsent(t.Context(), key, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(l.Path(key)); err != nil || string(b) != "x" {
		t.Fatalf("Path: %q, %v", b, err)
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
			l, err := storage.NewLocal(l.Root(), errFS{op: tc.op, match: tc.match})
			if err != nil {
				t.Fatal(err)
			}

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
