package wal

import (
	"sync"
	"sync/atomic"

	"github.com/ducktail/ducktail/storage/vfs"
)

// faultFS wraps a vfs.FS: it counts the writes and syncs of the files it
// creates, can fail the Nth write or sync with err, and can hold every sync
// until release is closed. Configure it before handing it to Open.
type faultFS struct {
	vfs.FS
	failWriteAt int64 // 1-based; 0 never
	failSyncAt  int64 // 1-based; 0 never
	err         error
	release     chan struct{} // when non-nil, Sync waits for it to be closed
	syncing     chan struct{} // when non-nil, receives a value as each Sync starts (non-blocking)
	zeroErr     error         // when non-nil, every WriteAt (the writer's zeros) writes half and fails with it

	zeroWrites atomic.Int64

	writes atomic.Int64
	syncs  atomic.Int64

	mu     sync.Mutex
	synced map[string]int64 // bytes of each created file covered by a successful Sync
}

// syncedSizes returns a copy of the synced size of every file created.
func (fsys *faultFS) syncedSizes() map[string]int64 {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	m := make(map[string]int64, len(fsys.synced))
	for k, v := range fsys.synced {
		m[k] = v
	}
	return m
}

func (fsys *faultFS) Create(name string) (vfs.File, error) {
	f, err := fsys.FS.Create(name)
	if err != nil {
		return nil, err
	}
	fsys.mu.Lock()
	if fsys.synced == nil {
		fsys.synced = make(map[string]int64)
	}
	fsys.synced[name] = 0
	fsys.mu.Unlock()
	return &faultFile{File: f, fs: fsys, name: name}, nil
}

type faultFile struct {
	vfs.File
	fs      *faultFS
	name    string
	written atomic.Int64
}

func (f *faultFile) Write(p []byte) (int, error) {
	if n := f.fs.writes.Add(1); n == f.fs.failWriteAt {
		// A failed write may leave part of its bytes behind.
		k, _ := f.File.Write(p[:len(p)/2])
		f.written.Add(int64(k))
		return k, f.fs.err
	}
	k, err := f.File.Write(p)
	f.written.Add(int64(k))
	return k, err
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.zeroWrites.Add(1)
	if f.fs.zeroErr != nil {
		k, _ := f.File.WriteAt(p[:len(p)/2], off)
		return k, f.fs.zeroErr
	}
	return f.File.WriteAt(p, off)
}

func (f *faultFile) Sync() error {
	n := f.fs.syncs.Add(1)
	if f.fs.syncing != nil {
		select {
		case f.fs.syncing <- struct{}{}:
		default:
		}
	}
	if f.fs.release != nil {
		<-f.fs.release
	}
	if n == f.fs.failSyncAt {
		return f.fs.err
	}
	size := f.written.Load()
	if err := f.File.Sync(); err != nil {
		return err
	}
	f.fs.mu.Lock()
	f.fs.synced[f.name] = size
	f.fs.mu.Unlock()
	return nil
}
