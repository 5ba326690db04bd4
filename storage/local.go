package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/vfs"
)

// writeBufferSize is the buffer between an ObjectWriter and its file, so a
// Parquet writer's small writes do not each become a system call.
const writeBufferSize = 256 << 10

// Linker is an optional capability of a vfs.FS: an atomic hard link that
// fails with an error wrapping fs.ErrExist when newname exists. Local uses it
// for PutIfAbsent; vfs.OS gets os.Link. A filesystem without it falls back to
// a check-and-rename under a mutex, atomic only within this process.
type Linker interface {
	Link(oldname, newname string) error
}

// Local stores objects as files under a root directory.
//
// Create writes a temporary file beside the key's path ("{name}.tmp{16 hex}");
// Commit fsyncs it, renames it into place and fsyncs the directory. New
// directories are fsynced into their parents when they are made.
// PutIfAbsent writes and fsyncs a temporary file and hard-links it to the
// key, which fails if the key exists. Temporary files left by a crash are
// removed by CleanTemp, to be called at start-up.
type Local struct {
	root string
	fsys vfs.FS
	// putMu serialises PutIfAbsent when fsys has no atomic link.
	putMu sync.Mutex
}

var (
	_ Store  = (*Local)(nil)
	_ Pather = (*Local)(nil)
)

// NewLocal returns a Local store rooted at root (made if missing) on fsys
// (vfs.OS{} if nil).
func NewLocal(root string, fsys vfs.FS) (*Local, error) {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	if root == "" {
		return nil, base.Errorf(base.ErrInvalid, "storage: empty root directory")
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	if err := fsys.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("storage: cannot create root %s: %w", root, err)
	}
	return &Local{root: root, fsys: fsys}, nil
}

// Root returns the directory the store keeps its files in.
func (l *Local) Root() string { return l.root }

// Path returns the file path of key. It does not check the key.
func (l *Local) Path(key string) string {
	return filepath.Join(l.root, filepath.FromSlash(key))
}

// mkdirDurable makes dir and its missing parents, fsyncing each new
// directory's parent so the new entries survive a crash.
func (l *Local) mkdirDurable(dir string) error {
	var missing []string
	for d := dir; len(d) > len(l.root); d = filepath.Dir(d) {
		if _, err := l.fsys.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	if len(missing) == 0 {
		return nil
	}
	if err := l.fsys.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("storage: cannot create directory %s: %w", dir, err)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := l.fsys.SyncDir(filepath.Dir(missing[i])); err != nil {
			return fmt.Errorf("storage: cannot sync directory %s: %w", filepath.Dir(missing[i]), err)
		}
	}
	return nil
}

// Create starts writing the object at key through a temporary file.
func (l *Local) Create(ctx context.Context, key string) (ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	path := l.Path(key)
	if err := l.mkdirDurable(filepath.Dir(path)); err != nil {
		return nil, err
	}
	tmp := tempName(path)
	f, err := l.fsys.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("storage: cannot create %s: %w", tmp, err)
	}
	return &localWriter{l: l, f: f, bw: bufio.NewWriterSize(f, writeBufferSize), tmp: tmp, path: path}, nil
}

// localWriter is the ObjectWriter of Local.
type localWriter struct {
	l     *Local
	f     vfs.File
	bw    *bufio.Writer
	tmp   string
	path  string
	ended bool
}

var errEnded = errors.New("storage: object writer already committed or aborted")

func (w *localWriter) Write(p []byte) (int, error) {
	if w.ended {
		return 0, errEnded
	}
	return w.bw.Write(p)
}

// Commit flushes, fsyncs, renames into place and fsyncs the directory. On
// any error the temporary file is removed and nothing new is at the key.
func (w *localWriter) Commit() error {
	if w.ended {
		return errEnded
	}
	w.ended = true
	fsys := w.l.fsys
	fail := func(op string, err error) error {
		fsys.Remove(w.tmp) // best effort: CleanTemp removes it otherwise
		return fmt.Errorf("storage: cannot %s %s: %w", op, w.tmp, err)
	}
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		return fail("write", err)
	}
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return fail("sync", err)
	}
	if err := w.f.Close(); err != nil {
		return fail("close", err)
	}
	if err := fsys.Rename(w.tmp, w.path); err != nil {
		return fail("rename", err)
	}
	if err := fsys.SyncDir(filepath.Dir(w.path)); err != nil {
		// The object is in place but may not survive a crash: take it back so
		// that an error means "not committed".
		fsys.Remove(w.path)
		return fmt.Errorf("storage: cannot sync directory of %s: %w", w.path, err)
	}
	return nil
}

// Abort closes and removes the temporary file. After Commit it does nothing.
func (w *localWriter) Abort() error {
	if w.ended {
		return nil
	}
	w.ended = true
	cerr := w.f.Close()
	if err := w.l.fsys.Remove(w.tmp); err != nil {
		return fmt.Errorf("storage: cannot remove %s: %w", w.tmp, err)
	}
	if cerr != nil {
		return fmt.Errorf("storage: cannot close %s: %w", w.tmp, cerr)
	}
	return nil
}

// PutIfAbsent writes data at key only if key does not exist: it writes and
// fsyncs a temporary file, links it to the key (failing if the key exists),
// removes the temporary file and fsyncs the directory.
func (l *Local) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckKey(key); err != nil {
		return err
	}
	path := l.Path(key)
	dir := filepath.Dir(path)
	if err := l.mkdirDurable(dir); err != nil {
		return err
	}
	tmp := tempName(path)
	if err := l.writeTemp(tmp, data); err != nil {
		return err
	}
	err := l.link(tmp, path)
	// Best effort: a temporary file left here is litter that CleanTemp removes.
	l.fsys.Remove(tmp)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("storage: put %s: %w", key, ErrExists)
		}
		return fmt.Errorf("storage: cannot link %s: %w", path, err)
	}
	if err := l.fsys.SyncDir(dir); err != nil {
		l.fsys.Remove(path)
		return fmt.Errorf("storage: cannot sync directory %s: %w", dir, err)
	}
	return nil
}

func (l *Local) writeTemp(tmp string, data []byte) error {
	f, err := l.fsys.Create(tmp)
	if err != nil {
		return fmt.Errorf("storage: cannot create %s: %w", tmp, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		l.fsys.Remove(tmp)
		return fmt.Errorf("storage: cannot write %s: %w", tmp, err)
	}
	return nil
}

// link makes newname another name of oldname, failing with fs.ErrExist if
// newname exists.
func (l *Local) link(oldname, newname string) error {
	switch fsys := l.fsys.(type) {
	case Linker:
		return fsys.Link(oldname, newname)
	case vfs.OS, *vfs.OS:
		return os.Link(oldname, newname)
	}
	l.putMu.Lock()
	defer l.putMu.Unlock()
	if _, err := l.fsys.Stat(newname); err == nil {
		return fs.ErrExist
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return l.fsys.Rename(oldname, newname)
}

// Open opens the object at key.
func (l *Local) Open(ctx context.Context, key string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	obj, err := FileObject(l.fsys, l.Path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, base.Errorf(base.ErrNotFound, "storage: no object %s: %w", key, err)
		}
		return nil, fmt.Errorf("storage: cannot open %s: %w", key, err)
	}
	return obj, nil
}

// FileObject opens the file at path as an Object: a Local object, or a
// remote store's cached copy. A missing file is an error wrapping
// fs.ErrNotExist.
func FileObject(fsys vfs.FS, path string) (Object, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileObject{File: f, size: fi.Size()}, nil
}

type fileObject struct {
	vfs.File
	size int64
}

func (o *fileObject) Size() int64 { return o.size }

// List returns the keys of the objects directly under prefix, sorted,
// leaving out temporary files and directories.
func (l *Local) List(ctx context.Context, prefix string) ([]string, error) {
	if err := CheckPrefix(prefix); err != nil {
		return nil, err
	}
	var keys []string
	err := l.walk(ctx, prefix, false, false, func(key string) error {
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(keys)
	return keys, nil
}

// walk calls fn with the key of every file under prefix (in deeper
// directories too if deep is set): temporary files only if temps is set,
// others only if it is not. A missing directory holds nothing.
func (l *Local) walk(ctx context.Context, prefix string, deep, temps bool, fn func(key string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := l.root
	if prefix != "" {
		dir = l.Path(strings.TrimSuffix(prefix, "/"))
	}
	names, err := l.fsys.List(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("storage: cannot list %s: %w", dir, err)
	}
	for _, name := range names {
		fi, err := l.fsys.Stat(filepath.Join(dir, name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing
			}
			return fmt.Errorf("storage: cannot stat %s: %w", filepath.Join(dir, name), err)
		}
		if fi.IsDir() {
			if deep {
				if err := l.walk(ctx, prefix+name+"/", deep, temps, fn); err != nil {
					return err
				}
			}
			continue
		}
		if isTemp(name) == temps {
			if err := fn(prefix + name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes the object at key; a missing key is not an error.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckKey(key); err != nil {
		return err
	}
	path := l.Path(key)
	if err := l.fsys.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("storage: cannot delete %s: %w", key, err)
	}
	if err := l.fsys.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("storage: cannot sync directory of %s: %w", key, err)
	}
	return nil
}

// CleanTemp removes the temporary files that writers interrupted by a crash
// left under the root. Call it at start-up, before any writer exists: it
// would remove a live writer's file too.
func (l *Local) CleanTemp(ctx context.Context) error {
	return l.walk(ctx, "", true, true, func(key string) error {
		if err := l.fsys.Remove(l.Path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("storage: cannot remove temporary file %s: %w", key, err)
		}
		return nil
	})
}
