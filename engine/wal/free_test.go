package wal

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/ducktail/ducktail/storage/vfs"
)

// copyDir copies the regular files of src into a new temp dir: what a crash
// at this moment would leave of them (their bytes up to the last Wait are
// durable).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// freeFiles returns the old numbers of the free files in dir.
func freeFiles(t *testing.T, dir string) []uint64 {
	t.Helper()
	nums, err := listFree(vfs.OS{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return nums
}

// ids returns the (g, i) of replayed records made by makeRec, as i only
// (the tests use g = 0).
func ids(got []replayed) []uint32 {
	out := make([]uint32, len(got))
	for k, r := range got {
		_, out[k] = recID(r.rec)
	}
	return out
}

// TestFreeFilesReused writes over several small files, retires the old ones
// and writes on: RemoveBefore keeps maxFree of them as free files, rotation
// renames them back into log files, and a crash image of the log (the
// active file holding new records over a retired file's old ones) replays
// exactly the records written after the retirement, with no error.
func TestFreeFilesReused(t *testing.T) {
	dir := t.TempDir()
	const fileSize = 16 << 10
	l := openLog(t, Options{Dir: dir, FileSize: fileSize})
	next := uint32(0)
	write := func(n int) {
		for range n {
			appendWait(t, l, makeRec(0, next, 1000))
			next++
		}
	}
	write(100) // about six files
	active := l.ActiveFile()
	if active < 5 {
		t.Fatalf("active file %d after 100 KB of records in 16 KiB files", active)
	}
	if err := l.RemoveBefore(active); err != nil {
		t.Fatal(err)
	}
	free := freeFiles(t, dir)
	if len(free) != maxFree {
		t.Fatalf("free files %v after RemoveBefore(%d), want %d", free, active, maxFree)
	}
	if got := logFiles(t, dir); !slices.Equal(got, []uint64{active}) {
		t.Fatalf("log files %v, want only %d", got, active)
	}
	first := next
	for l.ActiveFile() == active { // the rotation takes a free file
		write(1)
	}
	write(3)
	if got := freeFiles(t, dir); len(got) != maxFree-1 {
		t.Fatalf("free files %v after a rotation, want %d", got, maxFree-1)
	}
	reused := l.ActiveFile()
	if st, err := os.Stat(filepath.Join(dir, fileName(reused))); err != nil || st.Size() < fileSize {
		t.Fatalf("active file %d: %v, %v; want a reused file of at least %d bytes", reused, st, err, fileSize)
	}

	crash := copyDir(t, dir)
	got, err := replayAll(t, Options{Dir: crash}, true)
	if err != nil {
		t.Fatalf("Replay of the crash image: %v", err)
	}
	// The file active at the retirement is kept, so the replay starts at
	// or before first; it must run densely to next-1, and nothing of the
	// reused file's old records may show.
	g := ids(got)
	if len(g) == 0 || g[0] > first {
		t.Fatalf("crash image replayed ids %v, want them to start at or before %d", g, first)
	}
	for k, id := range g {
		if id != g[0]+uint32(k) {
			t.Fatalf("crash image replayed ids %v: %d at %d breaks the run", g, id, k)
		}
	}
	if g[len(g)-1] != next-1 {
		t.Fatalf("crash image replayed ids %v, want them to end at %d", g, next-1)
	}
}

// TestFreeFileNumberedAhead: a free file whose number is not below the new
// log file's may hold records that name it (here, a copy of log file 1 left
// as a free file when the log files were deleted by hand), so Open deletes
// it instead of reusing it.
func TestFreeFileNumberedAhead(t *testing.T) {
	src := t.TempDir()
	writeLog(t, src, []int{100, 100, 100, 100, 100})
	dir := t.TempDir()
	if err := os.WriteFile(freePath(dir, 9), readFile(t, src, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, Options{Dir: dir})
	if l.ActiveFile() != 1 {
		t.Fatalf("active file %d, want 1", l.ActiveFile())
	}
	if got := freeFiles(t, dir); len(got) != 0 {
		t.Fatalf("free files %v, want the one numbered 9 deleted", got)
	}
	rec := makeRec(0, 42, 100)
	appendWait(t, l, rec)
	got, err := replayAll(t, Options{Dir: copyDir(t, dir)}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0].rec, rec) {
		t.Fatalf("replayed %d records (ids %v), want only the one written", len(got), ids(got))
	}
}

// TestZeroAhead: a new file carries zeros ahead of its records while the
// log is open, a crash image of it replays every record, and Close cuts
// the file at its last record.
func TestZeroAhead(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var end Pos
	var recs [][]byte
	for i := range 50 {
		rec := makeRec(0, uint32(i), 200)
		recs = append(recs, rec)
		end = appendWait(t, l, rec)
	}
	b := readFile(t, dir, end.File)
	if int64(len(b)) < end.Offset+zeroChunk/2 {
		t.Fatalf("file is %d bytes with records to %d, want zeros written at least %d bytes ahead",
			len(b), end.Offset, zeroChunk/2)
	}
	if !bytes.Equal(b[end.Offset:], make([]byte, len(b)-int(end.Offset))) {
		t.Fatal("the bytes past the last record are not all zero")
	}
	got, err := replayAll(t, Options{Dir: copyDir(t, dir)}, true)
	if err != nil {
		t.Fatalf("Replay of the crash image: %v", err)
	}
	checkPrefix(t, got, recs, len(recs))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := int64(len(readFile(t, dir, end.File))); n != end.Offset {
		t.Fatalf("file is %d bytes after Close, want %d (its last record's end)", n, end.Offset)
	}
}

// TestBufferedNoZeros: Buffered mode writes no zeros ahead (it syncs once a
// second, so a cheaper sync gains nothing).
func TestBufferedNoZeros(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, Options{Dir: dir, Mode: Buffered})
	end := appendWait(t, l, makeRec(0, 1, 200))
	if n := int64(len(readFile(t, dir, end.File))); n != end.Offset {
		t.Fatalf("file is %d bytes, want %d", n, end.Offset)
	}
}

// TestZeroWriteFails: zeros only make syncs cheaper, so a zero write that
// fails (a disk too full for a whole chunk) is not the log's failure: the
// appends go on, are replayed, and the writer stops writing zeros to that
// file.
func TestZeroWriteFails(t *testing.T) {
	dir := t.TempDir()
	fsys := &faultFS{FS: vfs.OS{}, zeroErr: syscall.ENOSPC}
	l := openLog(t, Options{Dir: dir, FS: fsys})
	var recs [][]byte
	for i := range 20 {
		rec := makeRec(0, uint32(i), 300)
		recs = append(recs, rec)
		appendWait(t, l, rec)
	}
	if n := fsys.zeroWrites.Load(); n != 1 {
		t.Fatalf("%d zero writes after a failed one, want 1", n)
	}
	if err := l.Err(); err != nil {
		t.Fatalf("log failed: %v", err)
	}
	got, err := replayAll(t, Options{Dir: copyDir(t, dir)}, true)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	checkPrefix(t, got, recs, len(recs))
}
