package s3

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/vfs"
)

// writeBufferSize is the buffer between an ObjectWriter and its spool file.
const writeBufferSize = 256 << 10

// Create starts writing the object at key into a spool file under the cache
// directory. Commit uploads it with ctx: it must stay live until Commit
// returns.
func (s *Store) Create(ctx context.Context, key string) (storage.ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := storage.CheckKey(key); err != nil {
		return nil, err
	}
	spool := filepath.Join(s.tmpDir, randomName("spool-"))
	f, err := s.fsys.Create(spool)
	if err != nil {
		return nil, fmt.Errorf("s3: cannot create spool file %s: %w", spool, err)
	}
	return &writer{s: s, ctx: ctx, key: key, f: f, bw: bufio.NewWriterSize(f, writeBufferSize), spool: spool}, nil
}

// writer is the ObjectWriter of Store.
type writer struct {
	s     *Store
	ctx   context.Context
	key   string
	f     vfs.File
	bw    *bufio.Writer
	spool string
	size  int64
	ended bool
}

var errEnded = errors.New("s3: object writer already committed or aborted")

func (w *writer) Write(p []byte) (int, error) {
	if w.ended {
		return 0, errEnded
	}
	n, err := w.bw.Write(p)
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("s3: cannot write spool file %s: %w", w.spool, err)
	}
	return n, nil
}

// Commit uploads the spooled bytes, then keeps the spool file as the key's
// cached copy. On error the spool is removed; the object at key is then
// whatever it was before, except that a failure after S3 applied the write
// (an answer lost on the network) cannot be told apart.
func (w *writer) Commit() error {
	if w.ended {
		return errEnded
	}
	w.ended = true
	if err := w.bw.Flush(); err != nil {
		w.discard()
		return fmt.Errorf("s3: cannot write spool file %s: %w", w.spool, err)
	}
	if err := w.s.upload(w.ctx, w.key, w.f, w.size, false); err != nil {
		w.discard()
		return err
	}
	// The object is committed; failing to keep the cached copy only costs
	// a download later.
	if err := w.f.Sync(); err != nil {
		w.discard()
		w.s.opts.Logger.Warn("s3: cannot sync spool file; not caching it", "key", w.key, "err", err)
		return nil
	}
	if err := w.f.Close(); err != nil {
		w.s.fsys.Remove(w.spool)
		w.s.opts.Logger.Warn("s3: cannot close spool file; not caching it", "key", w.key, "err", err)
		return nil
	}
	w.s.adopt(w.key, w.spool)
	return nil
}

// Abort removes the spool file. After Commit it does nothing.
func (w *writer) Abort() error {
	if w.ended {
		return nil
	}
	w.ended = true
	cerr := w.f.Close()
	if err := w.s.fsys.Remove(w.spool); err != nil {
		return fmt.Errorf("s3: cannot remove spool file %s: %w", w.spool, err)
	}
	if cerr != nil {
		return fmt.Errorf("s3: cannot close spool file %s: %w", w.spool, cerr)
	}
	return nil
}

// discard closes and removes the spool file, best effort: New removes
// what is left.
func (w *writer) discard() {
	w.f.Close()
	w.s.fsys.Remove(w.spool)
}
