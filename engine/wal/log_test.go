package wal

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/vfs"
)

func TestRoundTripConcurrent(t *testing.T) {
	f := func(name string, mode Mode, fileSize int64) {
		t.Run(name, func(t *testing.T) {
			const writers, perWriter = 16, 150
			dir := t.TempDir()
			opts := Options{Dir: dir, Mode: mode, FileSize: fileSize}
			l := openLog(t, opts)
			positions := make([][]Pos, writers)
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for g := range writers {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), 1))
					for i := range perWriter {
						size := r.IntN(3000)
						if r.IntN(50) == 0 {
							size = 64<<10 + r.IntN(1000)
						}
						pos, err := l.Append(makeRec(uint32(g), uint32(i), size))
						if err == nil {
							err = l.Wait(context.Background(), pos)
						}
						if err != nil {
							errs <- err
							return
						}
						positions[g] = append(positions[g], pos)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got, err := replayAll(t, opts, false)
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			if len(got) != writers*perWriter {
				t.Fatalf("replayed %d records, want %d", len(got), writers*perWriter)
			}
			next := make([]uint32, writers)
			for k, r := range got {
				if k > 0 && !got[k-1].pos.Less(r.pos) {
					t.Fatalf("positions out of order: %v then %v", got[k-1].pos, r.pos)
				}
				g, i := recID(r.rec)
				if int(g) >= writers || i != next[g] {
					t.Fatalf("record %d is (%d, %d), want writer %d's record %d", k, g, i, g, next[min(int(g), writers-1)])
				}
				next[g]++
				if want := makeRec(g, i, len(r.rec)); !bytes.Equal(r.rec, want) {
					t.Fatalf("record (%d, %d): bytes differ", g, i)
				}
				if r.pos != positions[g][i] {
					t.Fatalf("record (%d, %d) at %v, Append returned %v", g, i, r.pos, positions[g][i])
				}
			}
			if fileSize > 0 && len(logFiles(t, dir)) < 2 {
				t.Fatalf("FileSize %d: want several files, have %v", fileSize, logFiles(t, dir))
			}
		})
	}
	f("sync", Sync, 0)
	f("buffered", Buffered, 0)
	f("sync-rotating", Sync, 256<<10)
	f("buffered-rotating", Buffered, 256<<10)
}

func TestGroupCommit(t *testing.T) {
	const writers, perWriter = 32, 40
	fsys := &faultFS{FS: vfs.OS{}}
	l := openLog(t, Options{Dir: t.TempDir(), FS: fsys})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				pos, err := l.Append(makeRec(uint32(g), uint32(i), 200))
				if err == nil {
					err = l.Wait(context.Background(), pos)
				}
				if err != nil {
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d writers failed: %v", failed.Load(), l.Err())
	}
	syncs, records := fsys.syncs.Load(), int64(writers*perWriter)
	t.Logf("%d records, %d fsyncs, %d writes", records, syncs, fsys.writes.Load())
	if syncs == 0 || syncs >= records {
		t.Fatalf("%d fsyncs for %d records: group commit does not group", syncs, records)
	}
}

func TestSyncLatencyObserved(t *testing.T) {
	var obs countObserver
	l := openLog(t, Options{Dir: t.TempDir(), SyncLatency: &obs})
	for i := range 3 {
		appendWait(t, l, makeRec(0, uint32(i), 10))
	}
	if n := obs.n.Load(); n != 3 {
		t.Fatalf("observed %d fsyncs, want 3", n)
	}
}

type countObserver struct{ n atomic.Int64 }

func (o *countObserver) Observe(float64) { o.n.Add(1) }

func TestFailureInjection(t *testing.T) {
	enospc := errors.New("no space left on device")
	f := func(name string, fsys *faultFS) {
		t.Run(name, func(t *testing.T) {
			fsys.FS, fsys.err = vfs.OS{}, enospc
			opts := Options{Dir: t.TempDir(), FS: fsys}
			l := openLog(t, opts)
			var acked [][]byte
			var failure error
			for i := range 20 {
				rec := makeRec(0, uint32(i), 100+i)
				pos, err := l.Append(rec)
				if err == nil {
					err = l.Wait(context.Background(), pos)
				}
				if err != nil {
					failure = err
					break
				}
				acked = append(acked, rec)
			}
			if failure == nil {
				t.Fatal("no failure after 20 records")
			}
			if !errors.Is(failure, base.ErrOverCapacity) || !errors.Is(failure, enospc) {
				t.Fatalf("error %v: want ErrOverCapacity wrapping the cause", failure)
			}
			if msg := failure.Error(); !bytes.Contains([]byte(msg), []byte("no space left on device")) {
				t.Fatalf("message %q does not name the cause", msg)
			}
			if base.RetryAfter(failure) <= 0 {
				t.Fatalf("error %v has no retry hint", failure)
			}
			if _, err := l.Append([]byte("late")); !errors.Is(err, base.ErrOverCapacity) {
				t.Fatalf("Append after failure: %v, want ErrOverCapacity", err)
			}
			if l.Err() == nil {
				t.Fatal("Err() is nil after a failure")
			}
			if err := l.Close(); !errors.Is(err, base.ErrOverCapacity) {
				t.Fatalf("Close: %v, want the sticky error", err)
			}
			if _, err := l.Append([]byte("closed")); !errors.Is(err, base.ErrClosed) {
				t.Fatalf("Append after Close: %v, want ErrClosed", err)
			}
			got, err := replayAll(t, Options{Dir: opts.Dir}, true)
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			if len(got) < len(acked) {
				t.Fatalf("replayed %d records, %d were acknowledged", len(got), len(acked))
			}
			for i, rec := range acked {
				if !bytes.Equal(got[i].rec, rec) {
					t.Fatalf("acknowledged record %d differs after replay", i)
				}
			}
		})
	}
	f("write-1", &faultFS{failWriteAt: 1})
	f("write-7", &faultFS{failWriteAt: 7})
	f("sync-1", &faultFS{failSyncAt: 1})
	f("sync-5", &faultFS{failSyncAt: 5})
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, FileSize: 1024}
	l := openLog(t, opts)
	var all []Pos
	for i := range 60 {
		all = append(all, appendWait(t, l, makeRec(0, uint32(i), 100)))
	}
	active := l.ActiveFile()
	files := logFiles(t, dir)
	if len(files) < 5 {
		t.Fatalf("files %v: want at least 5 with FileSize 1024", files)
	}
	for i, n := range files {
		if n != uint64(i+1) {
			t.Fatalf("files %v are not numbered 1, 2, ...", files)
		}
	}
	if files[len(files)-1] != active || all[len(all)-1].File != active {
		t.Fatalf("active file %d, files %v, last record at %v", active, files, all[len(all)-1])
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Less(all[i]) {
			t.Fatalf("positions out of order: %v then %v", all[i-1], all[i])
		}
	}

	if err := l.RemoveBefore(3); err != nil {
		t.Fatal(err)
	}
	if got := logFiles(t, dir); got[0] != 3 || len(got) != len(files)-2 {
		t.Fatalf("after RemoveBefore(3): %v", got)
	}
	if err := l.RemoveBefore(active + 10); err != nil {
		t.Fatal(err)
	}
	if got := logFiles(t, dir); !slices.Equal(got, []uint64{active}) {
		t.Fatalf("after RemoveBefore(%d): %v, want only the active file %d", active+10, got, active)
	}
	more := appendWait(t, l, makeRec(0, 60, 100))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := replayAll(t, opts, false)
	if err != nil {
		t.Fatal(err)
	}
	// What is left: the records of the active file and the one after.
	var want []Pos
	for _, p := range append(all, more) {
		if p.File >= active {
			want = append(want, p)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].pos != want[i] {
			t.Fatalf("record %d at %v, want %v", i, got[i].pos, want[i])
		}
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir}
	for round, n := range []int{10, 5, 0, 3} {
		l := openLog(t, opts)
		if got := l.ActiveFile(); got != uint64(round+1) {
			t.Fatalf("Open number %d: active file %d, want %d", round+1, got, round+1)
		}
		for i := range n {
			appendWait(t, l, makeRec(uint32(round), uint32(i), 50))
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := replayAll(t, opts, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 18 {
		t.Fatalf("replayed %d records, want 18", len(got))
	}
	for k, r := range got {
		g, _ := recID(r.rec)
		if uint64(g+1) != r.pos.File {
			t.Fatalf("record %d of round %d is in file %d", k, g, r.pos.File)
		}
	}
}

func TestBufferedDoesNotSync(t *testing.T) {
	fsys := &faultFS{FS: vfs.OS{}}
	l := openLog(t, Options{Dir: t.TempDir(), FS: fsys, Mode: Buffered, BufferedSyncInterval: 1 << 40})
	for i := range 50 {
		appendWait(t, l, makeRec(0, uint32(i), 100))
	}
	if n := fsys.syncs.Load(); n != 0 {
		t.Fatalf("%d fsyncs in Buffered mode before the interval", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := fsys.syncs.Load(); n != 1 {
		t.Fatalf("%d fsyncs after Close, want 1", n)
	}
}

func TestBufferedBackgroundSync(t *testing.T) {
	fsys := &faultFS{FS: vfs.OS{}}
	l := openLog(t, Options{Dir: t.TempDir(), FS: fsys, Mode: Buffered, BufferedSyncInterval: 5e6})
	appendWait(t, l, makeRec(0, 0, 100))
	waitFor(t, "the background fsync", func() bool { return fsys.syncs.Load() > 0 })
}

func TestWaitContextCancel(t *testing.T) {
	fsys := &faultFS{release: make(chan struct{}), syncing: make(chan struct{}, 1)}
	fsys.FS = vfs.OS{}
	l := openLog(t, Options{Dir: t.TempDir(), FS: fsys})
	pos, err := l.Append([]byte("stalled"))
	if err != nil {
		t.Fatal(err)
	}
	<-fsys.syncing // the writer is now stuck in Sync
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, pos) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel: %v", err)
	}
	close(fsys.release)
	if err := l.Wait(context.Background(), pos); err != nil {
		t.Fatalf("Wait after release: %v", err)
	}
}

func TestAppendLimits(t *testing.T) {
	t.Run("too-large", func(t *testing.T) {
		l := openLog(t, Options{Dir: t.TempDir()})
		if _, err := l.Append(make([]byte, MaxRecordSize+1)); !errors.Is(err, base.ErrTooLarge) {
			t.Fatalf("Append of %d bytes: %v, want ErrTooLarge", MaxRecordSize+1, err)
		}
		appendWait(t, l, make([]byte, MaxRecordSize))
	})
	t.Run("pending", func(t *testing.T) {
		fsys := &faultFS{FS: vfs.OS{}, release: make(chan struct{}), syncing: make(chan struct{}, 1)}
		l := openLog(t, Options{Dir: t.TempDir(), FS: fsys, MaxPendingBytes: 10 << 10})
		if _, err := l.Append(make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		<-fsys.syncing
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			_, err = l.Append(make([]byte, 1000))
		}
		if !errors.Is(err, base.ErrOverCapacity) || base.RetryAfter(err) != OverCapacityRetryMs {
			t.Fatalf("Append beyond MaxPendingBytes: %v (retry %d ms)", err, base.RetryAfter(err))
		}
		close(fsys.release)
		waitFor(t, "room in the pending buffer", func() bool {
			_, err := l.Append(make([]byte, 1000))
			return err == nil
		})
	})
	t.Run("closed", func(t *testing.T) {
		l, err := Open(Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		pos := appendWait(t, l, []byte("x"))
		for range 2 {
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		if _, err := l.Append([]byte("y")); !errors.Is(err, base.ErrClosed) {
			t.Fatalf("Append after Close: %v", err)
		}
		if err := l.Wait(context.Background(), pos); err != nil {
			t.Fatalf("Wait of a durable record after Close: %v", err)
		}
		if err := l.Wait(context.Background(), Pos{File: pos.File, Offset: 1 << 40}); !errors.Is(err, base.ErrClosed) {
			t.Fatalf("Wait of an unwritten position after Close: %v", err)
		}
	})
}

func TestAppendDoesNotAllocate(t *testing.T) {
	// The writer is held in its first fsync, so every Append lands in the
	// same pending buffer, whose growth is amortised.
	fsys := &faultFS{FS: vfs.OS{}, release: make(chan struct{}), syncing: make(chan struct{}, 1)}
	l := openLog(t, Options{Dir: t.TempDir(), FS: fsys, MaxPendingBytes: 1 << 30})
	defer close(fsys.release)
	rec := make([]byte, 1000)
	if _, err := l.Append(rec); err != nil {
		t.Fatal(err)
	}
	<-fsys.syncing
	allocs := testing.AllocsPerRun(20000, func() {
		if _, err := l.Append(rec); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0.01 {
		t.Fatalf("Append allocates %.4f times per call", allocs)
	}
}

func TestOptionsInvalid(t *testing.T) {
	f := func(name string, opts Options) {
		t.Run(name, func(t *testing.T) {
			if _, err := Open(opts); !errors.Is(err, base.ErrInvalid) {
				t.Fatalf("Open: %v, want ErrInvalid", err)
			}
		})
	}
	dir := t.TempDir()
	f("no-dir", Options{})
	f("mode", Options{Dir: dir, Mode: 7})
	f("file-size", Options{Dir: dir, FileSize: -1})
	f("pending", Options{Dir: dir, MaxPendingBytes: -1})
	f("interval", Options{Dir: dir, BufferedSyncInterval: -1})
}
