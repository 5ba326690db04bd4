package wal

import (
	"bytes"
	"testing"
)

func TestFraming(t *testing.T) {
	f := func(file uint64, rec []byte, wantLen int) {
		t.Helper()
		b := appendRecord([]byte("prefix.."), file, rec)[8:]
		if len(b) != wantLen || len(b) != framedSize(len(rec)) || len(b)%align != 0 {
			t.Fatalf("record of %d bytes framed to %d bytes, want %d", len(rec), len(b), wantLen)
		}
		h := decodeHeader(b)
		if h.file != file || h.size != len(rec) || !h.plausible(file, int64(len(b))) {
			t.Fatalf("header %+v for file %d, %d bytes", h, file, len(rec))
		}
		if !h.check(b, b[headerSize:headerSize+len(rec)]) {
			t.Fatal("checksum does not verify")
		}
		if h.plausible(file+1, int64(len(b))) || h.plausible(file, int64(len(b)-1)) {
			t.Fatal("header plausible for another file or a shorter remainder")
		}
		if !bytes.Equal(b[headerSize+len(rec):], make([]byte, len(b)-headerSize-len(rec))) {
			t.Fatal("padding is not zero")
		}
		for i := range b[:headerSize+len(rec)] {
			c := bytes.Clone(b)
			c[i] ^= 1
			hc := decodeHeader(c)
			if hc.file == file && hc.size == len(rec) && hc.check(c, c[headerSize:headerSize+len(rec)]) {
				t.Fatalf("flipping bit 0 of byte %d is not detected", i)
			}
		}
	}
	f(1, nil, 16)
	f(1, []byte("a"), 24)
	f(7, []byte("12345678"), 24)
	f(1<<40, []byte("123456789"), 32)
	f(3, make([]byte, 1000), 1016)
}

func TestZeroHeaderIsInvalid(t *testing.T) {
	var zero [headerSize]byte
	h := decodeHeader(zero[:])
	if h.check(zero[:], nil) {
		t.Fatal("an all-zero header has a valid checksum")
	}
	if h.plausible(1, 1<<20) {
		t.Fatal("an all-zero header is plausible for file 1 (file numbers start at 1)")
	}
}

func TestHugeLengthDecodes(t *testing.T) {
	var b [headerSize]byte
	for i := 4; i < 8; i++ {
		b[i] = 0xFF
	}
	if h := decodeHeader(b[:]); h.size != MaxRecordSize+1 {
		t.Fatalf("length 0xFFFFFFFF decodes as %d", h.size)
	}
}

func TestFileNames(t *testing.T) {
	f := func(name string, want uint64, ok bool) {
		t.Helper()
		got, gotOK := parseFileName(name)
		if got != want || gotOK != ok {
			t.Fatalf("parseFileName(%q) = %d, %v; want %d, %v", name, got, gotOK, want, ok)
		}
	}
	f(fileName(1), 1, true)
	f("00000000000000000042.wal", 42, true)
	f(fileName(1<<63), 1<<63, true)
	f("00000000000000000000.wal", 0, false)
	f("0000000000000000042.wal", 0, false)
	f("00000000000000000042.wal.tmp", 0, false)
	f("0000000000000000004x.wal", 0, false)
	f("+0000000000000000042.wal", 0, false)
	f("manifest", 0, false)
}

func TestPosLess(t *testing.T) {
	f := func(p, q Pos, want bool) {
		t.Helper()
		if got := p.Less(q); got != want {
			t.Fatalf("%v.Less(%v) = %v", p, q, got)
		}
	}
	f(Pos{1, 10}, Pos{1, 11}, true)
	f(Pos{1, 11}, Pos{1, 10}, false)
	f(Pos{1, 10}, Pos{1, 10}, false)
	f(Pos{1, 1 << 40}, Pos{2, 0}, true)
	f(Pos{2, 0}, Pos{1, 1 << 40}, false)
}
