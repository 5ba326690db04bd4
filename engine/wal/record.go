package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

const (
	// headerSize is the size of a record header: crc, len, file number.
	headerSize = 16
	// align is the alignment of every record's start.
	align = 8
	// MaxRecordSize is the largest payload Append accepts (16 MiB).
	MaxRecordSize = 16 << 20
	// fileExt is the extension of log files.
	fileExt = ".wal"
)

// crcTable returns the CRC-32C table (built once by hash/crc32 and cached
// there, so this is cheap).
func crcTable() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// Pos is a position in the log: the file number and the byte offset just
// past a record (including its padding).
type Pos struct {
	File   uint64
	Offset int64
}

// Less reports whether p comes before q in the log.
func (p Pos) Less(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	return p.Offset < q.Offset
}

// String returns "file:offset".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.File, p.Offset) }

// framedSize returns the bytes a record with an n-byte payload occupies.
func framedSize(n int) int {
	return (headerSize + n + align - 1) &^ (align - 1)
}

// appendRecord appends the framed record whose payload is the
// concatenation of parts to dst and returns it.
func appendRecord(dst []byte, file uint64, parts ...[]byte) []byte {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	start := len(dst)
	total := framedSize(size)
	dst = grow(dst, total)
	b := dst[start : start+total]
	binary.LittleEndian.PutUint32(b[4:8], uint32(size))
	binary.LittleEndian.PutUint64(b[8:16], file)
	at := headerSize
	for _, p := range parts {
		at += copy(b[at:], p)
	}
	clear(b[headerSize+size:])
	tab := crcTable()
	crc := crc32.Update(0, tab, b[4:headerSize])
	crc = crc32.Update(crc, tab, b[headerSize:headerSize+size])
	binary.LittleEndian.PutUint32(b[0:4], crc)
	return dst
}

// grow extends dst by n bytes, reallocating at most geometrically.
func grow(dst []byte, n int) []byte {
	if need := len(dst) + n; need > cap(dst) {
		nb := make([]byte, len(dst), max(need, 2*cap(dst)))
		copy(nb, dst)
		dst = nb
	}
	return dst[:len(dst)+n]
}

// header is a decoded record header.
type header struct {
	crc  uint32
	size int
	file uint64
}

// decodeHeader decodes the first headerSize bytes of b. A length above
// MaxRecordSize decodes as MaxRecordSize+1, so that it stays positive where
// int has 32 bits.
func decodeHeader(b []byte) header {
	size := binary.LittleEndian.Uint32(b[4:8])
	return header{
		crc:  binary.LittleEndian.Uint32(b[0:4]),
		size: int(min(size, MaxRecordSize+1)),
		file: binary.LittleEndian.Uint64(b[8:16]),
	}
}

// plausible reports whether h could start a record of file that ends within
// remain bytes (the bytes from the header's start to the end of the file).
func (h header) plausible(file uint64, remain int64) bool {
	return h.file == file && h.size <= MaxRecordSize && int64(framedSize(h.size)) <= remain
}

// check reports whether the CRC of the header bytes hb and payload matches.
func (h header) check(hb, payload []byte) bool {
	tab := crcTable()
	crc := crc32.Update(0, tab, hb[4:headerSize])
	return crc32.Update(crc, tab, payload) == h.crc
}

// fileName returns the base name of log file number n.
func fileName(n uint64) string { return fmt.Sprintf("%020d%s", n, fileExt) }

// parseFileName returns the number of a log file's base name, or false when
// name is not a log file.
func parseFileName(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, fileExt)
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}
