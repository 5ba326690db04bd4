package wal

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ducktail/ducktail/storage/vfs"
)

// makeRec returns the deterministic record number i of writer g: 8 bytes of
// (g, i) then size-8 bytes of a stream seeded by (g, i).
func makeRec(g, i uint32, size int) []byte {
	size = max(size, 8)
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b[0:4], g)
	binary.LittleEndian.PutUint32(b[4:8], i)
	r := rand.New(rand.NewPCG(uint64(g), uint64(i)))
	for j := 8; j < size; j++ {
		b[j] = byte(r.Uint32())
	}
	return b
}

// recID returns the (g, i) of a record made by makeRec.
func recID(rec []byte) (uint32, uint32) {
	return binary.LittleEndian.Uint32(rec[0:4]), binary.LittleEndian.Uint32(rec[4:8])
}

// replayed is one record seen by Replay.
type replayed struct {
	pos Pos
	rec []byte
}

// replayAll replays opts.Dir and returns the records in order.
func replayAll(t *testing.T, opts Options, repair bool) ([]replayed, error) {
	t.Helper()
	var out []replayed
	n, err := Replay(opts, repair, func(pos Pos, rec []byte) error {
		out = append(out, replayed{pos: pos, rec: bytes.Clone(rec)})
		return nil
	})
	if n != len(out) {
		t.Fatalf("Replay returned %d, fn saw %d records", n, len(out))
	}
	return out, err
}

// openLog opens a Log and closes it at the end of the test.
func openLog(t *testing.T, opts Options) *Log {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// appendWait appends rec and waits for it.
func appendWait(t *testing.T, l *Log, rec []byte) Pos {
	t.Helper()
	pos, err := l.Append(rec)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := l.Wait(context.Background(), pos); err != nil {
		t.Fatalf("Wait(%v): %v", pos, err)
	}
	return pos
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// logFiles returns the numbers of the log files in dir.
func logFiles(t *testing.T, dir string) []uint64 {
	t.Helper()
	nums, err := listFiles(vfs.OS{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return nums
}

// readFile returns the bytes of log file n in dir.
func readFile(t *testing.T, dir string, n uint64) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, fileName(n)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile makes log file n in dir hold b.
func writeFile(t *testing.T, dir string, n uint64, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, fileName(n)), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
