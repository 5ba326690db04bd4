package wal

import (
	"errors"
	"time"

	"github.com/ducktail/ducktail/storage/vfs"
)

// maxKeptBuffer is the capacity above which a mostly empty buffer is
// dropped after a round instead of being kept as the spare, so that one
// burst does not pin its memory for the life of the Log.
const maxKeptBuffer = 4 << 20

// run is the writer goroutine: one round per wake-up, plus the background
// fsync in Buffered mode.
func (l *Log) run() {
	var tick <-chan time.Time
	if l.opts.Mode == Buffered {
		t := time.NewTicker(l.opts.BufferedSyncInterval)
		defer t.Stop()
		tick = t.C
	}
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	for {
		select {
		case <-l.work:
			l.gather(gather)
			if l.round() {
				return
			}
		case <-tick:
			l.backgroundSync()
		}
	}
}

// round takes the whole pending buffer, writes it, fsyncs once (Sync mode,
// or when closing), then advances the durable position and wakes every
// waiter. It reports whether the writer should exit.
func (l *Log) round() (stop bool) {
	l.mu.Lock()
	buf, segs, target, closing := l.pending, l.segs, l.appended, l.closing
	records := l.records
	l.records = 0
	failed := l.err != nil
	l.pending, l.segs = l.spare[:0], l.spareSegs[:0]
	l.spare, l.spareSegs = nil, nil
	l.mu.Unlock()

	var err error
	if !failed {
		err = l.writeSegments(buf, segs)
		if err == nil {
			if closing {
				err = l.trimFile()
			} else {
				l.zeroAhead(len(buf))
			}
		}
		if err == nil && (l.opts.Mode == Sync || closing) {
			err = l.syncFile()
		}
	}

	n := len(buf)
	if cap(buf) > maxKeptBuffer && n < cap(buf)/4 {
		buf = nil
	}
	l.mu.Lock()
	l.spare, l.spareSegs = buf[:0], segs[:0]
	l.unwritten -= int64(n)
	if err != nil {
		l.failLocked(err)
	}
	l.mu.Unlock()
	if err == nil && !failed && n > 0 {
		l.advance(target)
	}
	l.gatherer.observe(records)
	if closing {
		l.stop()
		return true
	}
	return false
}

// writeSegments writes buf to the files its segments name, rotating to a new
// file where a segment's file differs from the open one.
func (l *Log) writeSegments(buf []byte, segs []segment) error {
	start := 0
	for _, s := range segs {
		if s.file != l.fFile {
			if err := l.rotate(s.file); err != nil {
				return err
			}
		}
		if s.end == start {
			continue
		}
		k, err := l.f.Write(buf[start:s.end])
		l.fPos += int64(k)
		if err != nil {
			return failure("write", err)
		}
		l.unsynced = true
		start = s.end
	}
	return nil
}

// rotate trims, syncs and closes the open file, then makes file n
// (newFile).
func (l *Log) rotate(n uint64) error {
	if err := l.trimFile(); err != nil {
		return err
	}
	if err := l.syncFile(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return failure("close", err)
	}
	l.f = nil
	f, end, err := l.newFile(n)
	if err != nil {
		return failure("rotation", err)
	}
	l.f, l.fFile, l.fPos, l.fEnd, l.noZeros = f, n, 0, end, false
	l.smu.Lock()
	l.writerFile = n
	l.smu.Unlock()
	l.opts.Logger.Debug("wal: rotated", "dir", l.opts.Dir, "file", n)
	return nil
}

// syncFile fdatasyncs the open file if anything was written since the last
// sync, and observes the latency.
func (l *Log) syncFile() error {
	if !l.unsynced || l.f == nil {
		return nil
	}
	start := time.Now()
	err := vfs.SyncData(l.f)
	took := time.Since(start)
	l.gatherer.synced(took)
	if l.opts.SyncLatency != nil {
		l.opts.SyncLatency.Observe(took.Seconds())
	}
	if err != nil {
		return failure("sync", err)
	}
	l.unsynced = false
	return nil
}

// backgroundSync is the periodic fsync of Buffered mode.
func (l *Log) backgroundSync() {
	l.mu.Lock()
	failed := l.err != nil
	l.mu.Unlock()
	if failed {
		return
	}
	if err := l.syncFile(); err != nil {
		l.mu.Lock()
		l.failLocked(err)
		l.mu.Unlock()
	}
}

// advance makes every record up to target durable and wakes the waiters.
func (l *Log) advance(target Pos) {
	l.smu.Lock()
	if l.durable.Less(target) {
		l.durable = target
		close(l.waitCh)
		l.waitCh = make(chan struct{})
	}
	l.smu.Unlock()
}

// stop closes the file, records the result of Close and wakes the waiters
// for the last time.
func (l *Log) stop() {
	var cerr error
	if l.f != nil {
		if err := l.f.Close(); err != nil {
			cerr = failure("close", err)
		}
		l.f = nil
	}
	l.mu.Lock()
	l.closeErr = l.err
	if cerr != nil {
		l.closeErr = errors.Join(l.err, cerr)
	}
	l.mu.Unlock()
	l.smu.Lock()
	l.stopped = true
	close(l.waitCh)
	l.waitCh = make(chan struct{})
	l.smu.Unlock()
}
