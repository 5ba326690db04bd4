package wal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// writeLog writes records of the given sizes into a fresh log in dir (file
// 1) and returns each record and the position just past it.
func writeLog(t *testing.T, dir string, sizes []int) ([][]byte, []Pos) {
	t.Helper()
	l, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	var ends []Pos
	for i, size := range sizes {
		rec := makeRec(0, uint32(i), size)
		recs = append(recs, rec)
		ends = append(ends, appendWait(t, l, rec))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return recs, ends
}

// checkPrefix asserts that got holds exactly the first n of recs.
func checkPrefix(t *testing.T, got []replayed, recs [][]byte, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("replayed %d records, want %d", len(got), n)
	}
	for i := range n {
		if !bytes.Equal(got[i].rec, recs[i]) {
			t.Fatalf("record %d differs", i)
		}
	}
}

func TestTornTail(t *testing.T) {
	src := t.TempDir()
	sizes := []int{40, 8, 300, 1000, 0, 17, 64, 123, 45, 60}
	recs, ends := writeLog(t, src, sizes)
	full := readFile(t, src, 1)
	if int64(len(full)) != ends[len(ends)-1].Offset {
		t.Fatalf("file is %d bytes, last record ends at %d", len(full), ends[len(ends)-1].Offset)
	}
	k := len(recs)
	// Every cut inside the last two records.
	for cut := ends[k-3].Offset; cut < int64(len(full)); cut++ {
		good := k - 2
		if cut >= ends[k-2].Offset {
			good = k - 1
		}
		dir := t.TempDir()
		writeFile(t, dir, 1, full[:cut])
		got, err := replayAll(t, Options{Dir: dir}, false)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		checkPrefix(t, got, recs, good)
		if n := int64(len(readFile(t, dir, 1))); n != cut {
			t.Fatalf("cut at %d: Replay without repair changed the file to %d bytes", cut, n)
		}
		got, err = replayAll(t, Options{Dir: dir}, true)
		if err != nil {
			t.Fatalf("cut at %d, repair: %v", cut, err)
		}
		checkPrefix(t, got, recs, good)
		if n := int64(len(readFile(t, dir, 1))); n != ends[good-1].Offset {
			t.Fatalf("cut at %d: repaired file is %d bytes, want %d", cut, n, ends[good-1].Offset)
		}
		got, err = replayAll(t, Options{Dir: dir}, false)
		if err != nil {
			t.Fatalf("cut at %d, after repair: %v", cut, err)
		}
		checkPrefix(t, got, recs, good)
	}
}

func TestDamagedFiles(t *testing.T) {
	src := t.TempDir()
	sizes := []int{40, 8, 300, 1000, 0, 17, 64, 123, 77, 200}
	recs, ends := writeLog(t, src, sizes)
	full := readFile(t, src, 1)
	k := len(recs)
	start := func(i int) int64 {
		if i == 0 {
			return 0
		}
		return ends[i-1].Offset
	}
	// f damages a copy of the log, then checks what Replay makes of it:
	// wantN good records, and either no error or ErrCorrupt at corruptAt.
	f := func(name string, damage func([]byte) []byte, wantN int, corruptAt int64, repairedSize int64) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			damaged := damage(bytes.Clone(full))
			writeFile(t, dir, 1, damaged)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			got, err := replayAll(t, Options{Dir: dir, Logger: logger}, true)
			if corruptAt >= 0 {
				if !errors.Is(err, base.ErrCorrupt) {
					t.Fatalf("Replay: %v, want ErrCorrupt", err)
				}
				for _, want := range []string{fileName(1), fmt.Sprintf("offset %d", corruptAt)} {
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("error %q does not name %q", err, want)
					}
				}
			} else if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			checkPrefix(t, got, recs, wantN)
			if dropped := int64(len(damaged)) - repairedSize; dropped > 0 {
				if want := fmt.Sprintf("dropped_bytes=%d", dropped); !strings.Contains(logs.String(), want) {
					t.Fatalf("log %q does not say %s", logs.String(), want)
				}
			}
			if n := int64(len(readFile(t, dir, 1))); n != repairedSize {
				t.Fatalf("file is %d bytes after Replay, want %d", n, repairedSize)
			}
		})
	}
	size := int64(len(full))
	f("intact", func(b []byte) []byte { return b }, k, -1, size)
	f("zeroed-tail", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, k, -1, size)
	f("zeroed-odd-tail", func(b []byte) []byte { return append(b, make([]byte, 13)...) }, k, -1, size)
	f("zeroed-last-record", func(b []byte) []byte {
		clear(b[start(k-1):])
		return b
	}, k-1, -1, start(k-1))
	f("garbage-tail", func(b []byte) []byte { return append(b, bytes.Repeat([]byte{0xA5}, 999)...) }, k, -1, size)
	f("bad-crc-last", func(b []byte) []byte {
		b[size-1-8] ^= 1 // inside the last payload, before its padding
		return b
	}, k-1, -1, start(k-1))
	f("garbage-middle", func(b []byte) []byte {
		copy(b[start(5):], "this is not a record header!")
		return b
	}, 5, start(5), size)
	f("bad-crc-middle", func(b []byte) []byte {
		b[start(3)+headerSize+10] ^= 0x40
		return b
	}, 3, start(3), size)
	f("zeroed-middle", func(b []byte) []byte {
		clear(b[start(2):ends[3].Offset])
		return b
	}, 2, start(2), size)
	f("bad-length-middle", func(b []byte) []byte {
		b[start(6)+5] = 0xFF // length now far past the end of the file
		return b
	}, 6, start(6), size)
	f("first-record-garbage", func(b []byte) []byte {
		b[0] ^= 0xFF
		return b
	}, 0, 0, size)
}

func TestStaleFileIsNotReplayed(t *testing.T) {
	// A file renamed to another number holds records of its old number:
	// none of them is valid there.
	dir := t.TempDir()
	writeLog(t, dir, []int{10, 20, 30})
	if err := os.Rename(filepath.Join(dir, fileName(1)), filepath.Join(dir, fileName(2))); err != nil {
		t.Fatal(err)
	}
	got, err := replayAll(t, Options{Dir: dir}, false)
	if err != nil || len(got) != 0 {
		t.Fatalf("Replay of a stale file: %d records, %v; want 0, nil", len(got), err)
	}
}

func TestReplayAcrossTornFile(t *testing.T) {
	// A failed or crashed file is followed by the file the next Open made.
	dir := t.TempDir()
	recs, ends := writeLog(t, dir, []int{10, 20, 30})
	full := readFile(t, dir, 1)
	writeFile(t, dir, 1, full[:ends[1].Offset+5])
	l := openLog(t, Options{Dir: dir})
	last := makeRec(9, 9, 50)
	appendWait(t, l, last)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := replayAll(t, Options{Dir: dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	checkPrefix(t, got, append(recs[:2:2], last), 3)
	if got[2].pos.File != 2 {
		t.Fatalf("last record in file %d, want 2", got[2].pos.File)
	}
}

func TestReplayCallbackError(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, []int{10, 20, 30})
	stop := errors.New("stop here")
	seen := 0
	n, err := Replay(Options{Dir: dir}, false, func(Pos, []byte) error {
		seen++
		if seen == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 1 || seen != 2 {
		t.Fatalf("Replay = %d, %v after %d calls; want 1, the callback's error, 2 calls", n, err, seen)
	}
}

func TestReplayMissingDir(t *testing.T) {
	n, err := Replay(Options{Dir: filepath.Join(t.TempDir(), "absent")}, true, func(Pos, []byte) error { return nil })
	if n != 0 || err != nil {
		t.Fatalf("Replay of a missing dir = %d, %v", n, err)
	}
}

func FuzzReplay(f *testing.F) {
	good := appendRecord(appendRecord(nil, 1, []byte("hello")), 1, []byte("world, again"))
	f.Add(good)
	f.Add(append(bytes.Clone(good), 0, 0, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		writeFile(t, dir, 1, data)
		n, err := Replay(Options{Dir: dir}, true, func(pos Pos, rec []byte) error {
			if pos.File != 1 || pos.Offset%align != 0 || pos.Offset > int64(len(data)) {
				return fmt.Errorf("bad position %v", pos)
			}
			return nil
		})
		if err != nil && !errors.Is(err, base.ErrCorrupt) {
			t.Fatalf("Replay: %v", err)
		}
		if err == nil {
			// The repaired file replays the same without complaint.
			m, err := Replay(Options{Dir: dir}, false, func(Pos, []byte) error { return nil })
			if err != nil || m != n {
				t.Fatalf("second Replay = %d, %v; first = %d", m, err, n)
			}
		}
	})
}
