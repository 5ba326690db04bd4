package wal

import (
	"context"
	"fmt"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/vfs"
)

// failRetryMs is the retry hint of the sticky error of a failed Log.
const failRetryMs = 1000

// segment is the part of a pending buffer that goes to one file: the bytes
// from the previous segment's end up to end.
type segment struct {
	file uint64
	end  int
}

// Log is an append-only log of records in numbered files
// "{Dir}/{File:020d}.wal". Open never appends to an existing log file: it
// starts a new file numbered after the highest existing one. Safe for
// concurrent use.
type Log struct {
	opts  Options
	work  chan struct{} // capacity 1: "there is something to do"
	wg    sync.WaitGroup
	start time.Time

	mu sync.Mutex
	// The fields below are guarded by mu.
	pending   []byte    // framed records appended but not yet taken by the writer
	segs      []segment // how pending splits over files, in order
	spare     []byte    // the writer's last buffer, reused as the next pending
	spareSegs []segment
	file      uint64 // the file Append writes to
	off       int64  // offset in file just past pending
	appended  Pos    // position just past the last appended record
	unwritten int64  // bytes appended and not yet written (and synced in Sync mode)
	records   int    // records in pending
	wakeAt    int    // while the writer gathers: wake it only once records reach this (gather.go)
	err       error  // sticky failure
	closing   bool
	closeErr  error // set by the writer before it exits

	smu sync.Mutex
	// The fields below are guarded by smu.
	durable    Pos           // every record ending at or before it is durable
	waitCh     chan struct{} // closed when durable advances, the Log fails or stops
	failed     error         // copy of err for Wait
	stopped    bool          // the writer has exited
	writerFile uint64        // the file the writer has open

	rmMu sync.Mutex // serialises RemoveBefore

	freeMu sync.Mutex
	free   []uint64 // guarded by freeMu: old numbers of the free files (free.go)

	// The fields below are owned by the writer goroutine (and by Open
	// before it starts).
	f        vfs.File
	fFile    uint64
	fPos     int64  // write offset in f
	fEnd     int64  // bytes of f already written: zeros, or a free file's old bytes
	zeros    []byte // zeroChunk zero bytes, made on first use
	noZeros  bool   // a zero write failed in f: no more for it
	unsynced bool
	gatherer gatherer
}

// Open creates Dir if needed, starts a new log file numbered after the
// highest existing one and starts the writer goroutine.
func Open(opts Options) (*Log, error) {
	start := time.Now()
	if err := opts.ensureDefaults(); err != nil {
		return nil, err
	}
	if err := opts.FS.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: cannot create directory %s: %w", opts.Dir, err)
	}
	nums, err := listFiles(opts.FS, opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("wal: cannot list %s: %w", opts.Dir, err)
	}
	next := uint64(1)
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	free, err := listFree(opts.FS, opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("wal: cannot list %s: %w", opts.Dir, err)
	}
	l := &Log{
		opts:       opts,
		work:       make(chan struct{}, 1),
		start:      start,
		file:       next,
		appended:   Pos{File: next},
		durable:    Pos{File: next},
		waitCh:     make(chan struct{}),
		writerFile: next,
		free:       free,
	}
	if l.f, l.fEnd, err = l.newFile(next); err != nil {
		return nil, err
	}
	l.fFile = next
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		// The writer is a root goroutine: its context only carries labels.
		pprof.Do(context.Background(), pprof.Labels("ducktail", "wal-writer"), func(context.Context) {
			l.run()
		})
	}()
	opts.Logger.Info("wal: opened", "dir", opts.Dir, "file", next, "mode", opts.Mode.String(),
		"took", time.Since(start))
	return l, nil
}

// Append copies rec (framed) into the pending buffer and returns the
// position just past it. It does not wait for I/O. Records appended in one
// goroutine's order are in the log in that order. rec may be reused as soon
// as Append returns.
//
// Errors: base.ErrTooLarge above MaxRecordSize; base.ErrOverCapacity with a
// retry hint when MaxPendingBytes would be exceeded or when the Log has
// failed (the message names the cause); base.ErrClosed after Close.
func (l *Log) Append(rec []byte) (Pos, error) { return l.AppendParts(rec) }

// AppendParts is Append of the record whose bytes are the concatenation of
// parts, copied straight into the log's buffer: a caller with a header and a
// body needs no buffer of its own to join them.
func (l *Log) AppendParts(parts ...[]byte) (Pos, error) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	if size > MaxRecordSize {
		return Pos{}, base.Errorf(base.ErrTooLarge, "wal: record of %d bytes is over the limit of %d bytes",
			size, MaxRecordSize)
	}
	n := int64(framedSize(size))
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return Pos{}, base.Errorf(base.ErrClosed, "wal: log %s is closed", l.opts.Dir)
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return Pos{}, err
	}
	if l.unwritten > 0 && l.unwritten+n > l.opts.MaxPendingBytes {
		u := l.unwritten
		l.mu.Unlock()
		return Pos{}, base.Retry(base.ErrOverCapacity, OverCapacityRetryMs,
			"wal: %d bytes are waiting to be written, over the limit of %d bytes (MaxPendingBytes)",
			u+n, l.opts.MaxPendingBytes)
	}
	if l.off >= l.opts.FileSize {
		l.file++
		l.off = 0
	}
	if k := len(l.segs); k == 0 || l.segs[k-1].file != l.file {
		l.segs = append(l.segs, segment{file: l.file})
	}
	l.pending = appendRecord(l.pending, l.file, parts...)
	l.segs[len(l.segs)-1].end = len(l.pending)
	l.off += n
	l.unwritten += n
	l.records++
	pos := Pos{File: l.file, Offset: l.off}
	l.appended = pos
	wake := l.wakeAt == 0 || l.records >= l.wakeAt
	l.mu.Unlock()
	if wake {
		select {
		case l.work <- struct{}{}:
		default:
		}
	}
	return pos, nil
}

// Wait blocks until the record ending at pos is durable under the Log's
// Mode, the Log failed, or ctx ends; it returns nil, the Log's error, or
// ctx.Err(). A record that was durable before a failure still returns nil.
func (l *Log) Wait(ctx context.Context, pos Pos) error {
	for {
		l.smu.Lock()
		if !l.durable.Less(pos) {
			l.smu.Unlock()
			return nil
		}
		if l.failed != nil {
			err := l.failed
			l.smu.Unlock()
			return err
		}
		if l.stopped {
			l.smu.Unlock()
			return base.Errorf(base.ErrClosed, "wal: log %s is closed and position %v was never written", l.opts.Dir, pos)
		}
		ch := l.waitCh
		l.smu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Err returns the sticky error, or nil.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// ActiveFile is the number of the file Append writes to now.
func (l *Log) ActiveFile() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.file
}

// RemoveBefore deletes every log file numbered below file and fsyncs Dir,
// keeping up to maxFree of them as free files for the writer to reuse
// (free.go). It never deletes the active file, nor a file the writer has
// not finished.
// The engine calls it once everything in those files is covered by
// committed segment manifests.
func (l *Log) RemoveBefore(file uint64) error {
	l.rmMu.Lock()
	defer l.rmMu.Unlock()
	l.smu.Lock()
	limit := min(file, l.writerFile)
	l.smu.Unlock()
	nums, err := listFiles(l.opts.FS, l.opts.Dir)
	if err != nil {
		return fmt.Errorf("wal: cannot list %s: %w", l.opts.Dir, err)
	}
	removed := 0
	for _, n := range nums {
		if n >= limit {
			break
		}
		if err := l.release(n); err != nil {
			return err
		}
		removed++
	}
	if removed == 0 {
		return nil
	}
	if err := l.opts.FS.SyncDir(l.opts.Dir); err != nil {
		return fmt.Errorf("wal: cannot sync directory %s: %w", l.opts.Dir, err)
	}
	l.opts.Logger.Debug("wal: removed old files", "dir", l.opts.Dir, "count", removed, "below", limit)
	return nil
}

// Close writes and fsyncs everything pending (in both modes), stops the
// writer goroutine and closes the file. It returns the Log's sticky error or
// the error of the final sync or close. Idempotent: later calls wait for the
// first to finish and return the same result. Appends after Close return an
// error wrapping base.ErrClosed.
func (l *Log) Close() error {
	start := time.Now()
	l.mu.Lock()
	first := !l.closing
	l.closing = true
	l.mu.Unlock()
	if first {
		select {
		case l.work <- struct{}{}:
		default:
		}
	}
	l.wg.Wait()
	l.mu.Lock()
	err := l.closeErr
	l.mu.Unlock()
	if first {
		l.opts.Logger.Info("wal: closed", "dir", l.opts.Dir, "took", time.Since(start),
			"open_for", time.Since(l.start), "err", err)
	}
	return err
}

// failLocked makes err the Log's sticky error and wakes every waiter.
// REQUIRES: l.mu held.
func (l *Log) failLocked(err error) {
	if l.err != nil {
		return
	}
	l.err = err
	l.smu.Lock()
	l.failed = err
	close(l.waitCh)
	l.waitCh = make(chan struct{})
	l.smu.Unlock()
	l.opts.Logger.Error("wal: log failed; appends are refused until restart", "dir", l.opts.Dir, "err", err)
}

// failure wraps an I/O error of the writer as the sticky error.
func failure(what string, err error) error {
	return &base.Error{
		Kind:         base.ErrOverCapacity,
		Msg:          "wal: " + what + " failed: " + err.Error(),
		RetryAfterMs: failRetryMs,
		Err:          err,
	}
}
