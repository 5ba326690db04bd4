package encode

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// errClosed is returned by Write after Close.
var errClosed = errors.New("encode: writer is closed")

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// docWriter holds what EventWriter and RowWriter share: the format, the
// buffered output, the Arrow IPC writer and the document state.
type docWriter struct {
	f       Format
	out     sink
	ipc     *ipc.Writer
	started bool // the document's opening ('[' or the CSV header) is written
	rows    int  // rows written so far
	closed  bool
}

func newDocWriter(w io.Writer, f Format, s *arrow.Schema) (docWriter, error) {
	if w == nil {
		return docWriter{}, fmt.Errorf("encode: nil io.Writer")
	}
	if s == nil {
		return docWriter{}, fmt.Errorf("encode: nil schema")
	}
	d := docWriter{f: f, out: newSink(w)}
	switch f {
	case JSON, NDJSON, CSV:
	case Arrow:
		d.ipc = ipc.NewWriter(w, ipc.WithSchema(s))
	default:
		return docWriter{}, fmt.Errorf("encode: unknown format %d", int(f))
	}
	return d, nil
}

// check returns the error that stops a Write: closed, or a sticky write
// error.
func (d *docWriter) check(rec arrow.RecordBatch) error {
	if d.closed {
		return errClosed
	}
	if d.out.err != nil {
		return d.out.err
	}
	if rec == nil {
		return fmt.Errorf("encode: nil record")
	}
	return nil
}

// writeArrow writes rec to the IPC stream.
func (d *docWriter) writeArrow(rec arrow.RecordBatch) error {
	if err := d.ipc.Write(rec); err != nil {
		return fmt.Errorf("encode: cannot write arrow batch: %w", err)
	}
	return nil
}

// separator appends what goes before a row in JSON ('[' or ',').
func (d *docWriter) separator() {
	if d.f != JSON {
		return
	}
	if d.rows == 0 {
		d.out.buf = append(d.out.buf, '[')
	} else {
		d.out.buf = append(d.out.buf, ',')
	}
}

// endRow appends what goes after a row and flushes a full buffer.
func (d *docWriter) endRow() {
	if d.f == NDJSON {
		d.out.buf = append(d.out.buf, '\n')
	}
	d.rows++
	d.out.maybeFlush()
}

// close finishes the document: ']' (or "[]"), or the Arrow end-of-stream
// (with the schema, if no batch was written). header is written first for
// CSV when no record was.
func (d *docWriter) close(header func([]byte) []byte) error {
	if d.closed {
		return d.out.err
	}
	d.closed = true
	switch d.f {
	case Arrow:
		if err := d.ipc.Close(); err != nil {
			return fmt.Errorf("encode: cannot finish arrow stream: %w", err)
		}
		return d.out.release()
	case JSON:
		if d.rows == 0 {
			d.out.buf = append(d.out.buf, '[')
		}
		d.out.buf = append(d.out.buf, ']')
	case CSV:
		if !d.started {
			d.out.buf = header(d.out.buf)
			d.started = true
		}
	}
	return d.out.release()
}
