package wal

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/vfs"
)

// scanWindow is the read size of the forward scan for a valid record after a
// bad one.
const scanWindow = 64 << 10

// Replay reads every record of every log file in Dir in order and calls fn
// with its position and bytes (rec is only valid during the call). A missing
// Dir holds no records.
//
// A torn or zeroed tail (short header, short record, bad CRC or foreign file
// number with nothing valid after it, or all-zero bytes to the end) ends
// that file and is not an error: when repair is true, Replay truncates the
// file at the last good record and fsyncs it, and it logs a warning with
// the byte count dropped either way. A bad record followed by a valid record
// in the same file is corruption: an error wrapping base.ErrCorrupt naming
// the file and offset. An error from fn stops Replay and is returned as is.
// Returns the number of records for which fn returned nil.
//
// Replay must not run on the files of an open Log.
func Replay(opts Options, repair bool, fn func(pos Pos, rec []byte) error) (int, error) {
	if err := opts.ensureDefaults(); err != nil {
		return 0, err
	}
	nums, err := listFiles(opts.FS, opts.Dir)
	if err != nil {
		return 0, fmt.Errorf("wal: cannot list %s: %w", opts.Dir, err)
	}
	r := &replayer{opts: opts, repair: repair, fn: fn}
	total := 0
	for _, n := range nums {
		k, err := r.replayFile(n)
		total += k
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// replayer holds the buffers Replay reuses across files.
type replayer struct {
	opts   Options
	repair bool
	fn     func(pos Pos, rec []byte) error
	br     *bufio.Reader
	buf    []byte // payload buffer
	win    []byte // scan window
}

// replayFile replays file n and returns the number of records replayed.
func (r *replayer) replayFile(n uint64) (count int, err error) {
	path := filePath(r.opts.Dir, n)
	f, err := r.opts.FS.Open(path)
	if err != nil {
		return 0, fmt.Errorf("wal: cannot open %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("wal: cannot close %s: %w", path, cerr)
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("wal: cannot stat %s: %w", path, err)
	}
	size := st.Size()
	if r.br == nil {
		r.br = bufio.NewReaderSize(f, 1<<20)
	} else {
		r.br.Reset(f)
	}
	var hb [headerSize]byte
	for off := int64(0); off < size; {
		remain := size - off
		why := ""
		var h header
		if remain < headerSize {
			why = "short header"
		} else {
			if _, err := io.ReadFull(r.br, hb[:]); err != nil {
				return count, fmt.Errorf("wal: cannot read %s at offset %d: %w", path, off, err)
			}
			h = decodeHeader(hb[:])
			switch {
			case h == header{}:
				why = "zeroed header"
			case h.file != n:
				why = fmt.Sprintf("record of file %d", h.file)
			case h.size > MaxRecordSize:
				why = fmt.Sprintf("length %d over the limit", h.size)
			case int64(framedSize(h.size)) > remain:
				why = "short record"
			}
		}
		var rec []byte
		if why == "" {
			body := framedSize(h.size) - headerSize
			r.buf = grow(r.buf[:0], body)
			if _, err := io.ReadFull(r.br, r.buf); err != nil {
				return count, fmt.Errorf("wal: cannot read %s at offset %d: %w", path, off, err)
			}
			rec = r.buf[:h.size]
			if !h.check(hb[:], rec) {
				why = "checksum mismatch"
			}
		}
		if why != "" {
			// The bad record's length is not trusted (it may be the damaged
			// part), so the search for a later valid record starts at the
			// next aligned offset.
			return count, r.badRecord(f, path, n, off, off+align, size, why)
		}
		off += int64(framedSize(h.size))
		if err := r.fn(Pos{File: n, Offset: off}, rec); err != nil {
			return count, err
		}
		count++
	}
	return count, nil
}

// badRecord handles a bad record at off of file n: corruption when a valid
// record follows it at or after from, else a torn tail to drop.
func (r *replayer) badRecord(f vfs.File, path string, n uint64, off, from, size int64, why string) error {
	at, found, err := r.scanValid(f, n, from, size)
	if err != nil {
		return fmt.Errorf("wal: cannot read %s: %w", path, err)
	}
	if found {
		return base.Errorf(base.ErrCorrupt, "wal: %s: bad record at offset %d (%s) followed by a valid record at offset %d",
			path, off, why, at)
	}
	if r.repair {
		if err := truncate(r.opts.FS, path, off); err != nil {
			return err
		}
	}
	r.opts.Logger.Warn("wal: torn tail dropped", "file", path, "offset", off, "dropped_bytes", size-off,
		"reason", why, "repaired", r.repair)
	return nil
}

// scanValid looks for a valid record of file n starting at an 8-aligned
// offset in [from, size). It returns its offset and true when there is one.
func (r *replayer) scanValid(ra io.ReaderAt, n uint64, from, size int64) (int64, bool, error) {
	if from%align != 0 {
		from += align - from%align
	}
	if r.win == nil {
		r.win = make([]byte, scanWindow)
	}
	for base := from; base+headerSize <= size; {
		k := int(min(int64(len(r.win)), size-base))
		if _, err := readFullAt(ra, r.win[:k], base); err != nil {
			return 0, false, err
		}
		i := 0
		for ; i+headerSize <= k; i += align {
			o := base + int64(i)
			h := decodeHeader(r.win[i:])
			if !h.plausible(n, size-o) {
				continue
			}
			r.buf = grow(r.buf[:0], h.size)
			if _, err := readFullAt(ra, r.buf, o+headerSize); err != nil {
				return 0, false, err
			}
			if h.check(r.win[i:i+headerSize], r.buf) {
				return o, true, nil
			}
		}
		base += int64(i)
	}
	return 0, false, nil
}

// readFullAt reads len(b) bytes at off; io.EOF with a full read is success.
func readFullAt(ra io.ReaderAt, b []byte, off int64) (int, error) {
	n, err := ra.ReadAt(b, off)
	if n == len(b) && (err == nil || errors.Is(err, io.EOF)) {
		return n, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// truncate cuts the file at size and fsyncs it.
func truncate(fsys vfs.FS, path string, size int64) error {
	f, err := fsys.OpenReadWrite(path)
	if err != nil {
		return fmt.Errorf("wal: cannot open %s to repair it: %w", path, err)
	}
	if err := f.Truncate(size); err != nil {
		return errors.Join(fmt.Errorf("wal: cannot truncate %s at %d: %w", path, size, err), f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(fmt.Errorf("wal: cannot sync %s after truncating it: %w", path, err), f.Close())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("wal: cannot close %s after truncating it: %w", path, err)
	}
	return nil
}
