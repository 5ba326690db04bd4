package wal

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"

	"github.com/ducktail/ducktail/storage/vfs"
)

// TestCrashKeepsAcked simulates a power loss in the middle of concurrent
// writes: every file is cut back to what its last fsync covered, plus part
// of the unsynced bytes (a torn write). Every record acknowledged before the
// crash must replay.
func TestCrashKeepsAcked(t *testing.T) {
	const writers, perWriter = 8, 120
	dir := t.TempDir()
	fsys := &faultFS{FS: vfs.OS{}}
	l := openLog(t, Options{Dir: dir, FS: fsys, FileSize: 16 << 10})
	var mu sync.Mutex
	var acked [][]byte
	crashed := make(chan struct{})
	var synced map[string]int64
	var ackedAtCrash [][]byte
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				rec := makeRec(uint32(g), uint32(i), 50+i*3)
				pos, err := l.Append(rec)
				if err == nil {
					err = l.Wait(context.Background(), pos)
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, rec)
				if len(acked) == writers*perWriter/2 {
					// An acknowledged record's fsync finished before its
					// ack, so the snapshot taken after it covers it.
					ackedAtCrash = append([][]byte(nil), acked...)
					synced = fsys.syncedSizes()
					close(crashed)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	<-crashed
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for name, size := range synced {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		keep := size + (int64(len(b))-size)/2
		if err := os.WriteFile(name, b[:keep], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Files created after the crash never existed.
	for _, n := range logFiles(t, dir) {
		if _, ok := synced[filePath(dir, n)]; !ok {
			if err := os.Remove(filePath(dir, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := replayAll(t, Options{Dir: dir}, true)
	if err != nil {
		t.Fatalf("Replay after crash: %v", err)
	}
	seen := make(map[[2]uint32]bool, len(got))
	for _, r := range got {
		g, i := recID(r.rec)
		if !bytes.Equal(r.rec, makeRec(g, i, len(r.rec))) {
			t.Fatalf("record (%d, %d) replayed with wrong bytes", g, i)
		}
		seen[[2]uint32{g, i}] = true
	}
	for _, rec := range ackedAtCrash {
		g, i := recID(rec)
		if !seen[[2]uint32{g, i}] {
			t.Fatalf("acknowledged record (%d, %d) lost in the crash (%d of %d replayed)", g, i, len(got), len(acked))
		}
	}
	t.Logf("%d acknowledged at the crash, %d replayed, %d files", len(ackedAtCrash), len(got), len(synced))
}
