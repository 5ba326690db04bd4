// Package vfs is the filesystem seam under the write-ahead log, the segment
// writer and the manifest. Production code uses OS; tests wrap it to inject
// failures (a full disk, a failing fsync or rename) at a chosen operation.
//
// It imports only the standard library and base.
package vfs

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// File is an open file. Writes are not durable until Sync (or SyncData)
// returns nil.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Seeker
	io.Closer
	Sync() error
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
}

// FS is the set of filesystem operations ducktail's storage uses. Every
// method that changes the directory tree is durable only after SyncDir on
// the parent directory.
type FS interface {
	// Create creates or truncates name for reading and writing, mode 0600.
	Create(name string) (File, error)
	// Open opens name read-only.
	Open(name string) (File, error)
	// OpenReadWrite opens an existing file for reading and writing.
	OpenReadWrite(name string) (File, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	MkdirAll(dir string, perm fs.FileMode) error
	// SyncDir fsyncs a directory so that renames and creations in it survive
	// a crash.
	SyncDir(dir string) error
	// List returns the names of the entries of dir, sorted.
	List(dir string) ([]string, error)
	Stat(name string) (fs.FileInfo, error)
}

// OS is the FS of the operating system.
type OS struct{}

var _ FS = OS{}

// Create makes files only their owner may read, as PostgreSQL does its
// data files: they hold the tenants' events, the stream keys' secrets
// (access.json) and API key hashes, none of which another local user may see.
func (OS) Create(name string) (File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}
func (OS) Open(name string) (File, error) { return os.Open(name) }
func (OS) OpenReadWrite(name string) (File, error) {
	return os.OpenFile(name, os.O_RDWR, 0)
}
func (OS) Rename(oldname, newname string) error        { return os.Rename(oldname, newname) }
func (OS) Remove(name string) error                    { return os.Remove(name) }
func (OS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }
func (OS) Stat(name string) (fs.FileInfo, error)       { return os.Stat(name) }

func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

func (OS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

// WriteFileAtomic makes name hold data, or leave it as it was: it writes a
// temporary file beside name, fsyncs it, renames it over name and fsyncs the
// directory. Every error is returned; a failed write leaves no partial name.
func WriteFileAtomic(fsys FS, name string, data []byte) error {
	tmp := name + ".tmp"
	f, err := fsys.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		fsys.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		fsys.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		fsys.Remove(tmp)
		return err
	}
	if err := fsys.Rename(tmp, name); err != nil {
		fsys.Remove(tmp)
		return err
	}
	return fsys.SyncDir(filepath.Dir(name))
}
