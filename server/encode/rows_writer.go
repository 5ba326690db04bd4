package encode

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// RowWriter streams SQL result rows to an io.Writer in one Format: JSON as
// an array of objects keyed by column name, NDJSON one object per line, CSV
// with a header row of the column names, Arrow as an IPC stream. Its
// contract is EventWriter's.
type RowWriter struct {
	doc    docWriter
	keys   [][]byte // `"name":` per column; the first without a comma
	header []byte   // CSV header line
	cols   []ValueAppender
	cell   []byte
}

// NewRowWriter returns a writer of rows of schema s to w in format f.
func NewRowWriter(w io.Writer, f Format, s *arrow.Schema) (*RowWriter, error) {
	doc, err := newDocWriter(w, f, s)
	if err != nil {
		return nil, err
	}
	rw := &RowWriter{doc: doc}
	for k, fl := range s.Fields() {
		var key []byte
		if k > 0 {
			key = append(key, ',')
		}
		rw.keys = append(rw.keys, appendKey(key, fl.Name))
		if k > 0 {
			rw.header = append(rw.header, ',')
		}
		rw.header = appendCSVField(rw.header, appendValidUTF8(nil, fl.Name))
	}
	rw.header = append(rw.header, '\n')
	return rw, nil
}

// Write writes every row of rec, whose columns must match the schema's in
// number and order (names are taken from the schema). rec is not retained
// or released.
func (rw *RowWriter) Write(rec arrow.RecordBatch) error {
	d := &rw.doc
	if err := d.check(rec); err != nil {
		return err
	}
	if d.f == Arrow {
		return d.writeArrow(rec)
	}
	if int(rec.NumCols()) != len(rw.keys) {
		return fmt.Errorf("encode: record has %d columns, the schema %d", rec.NumCols(), len(rw.keys))
	}
	rw.cols = rw.cols[:0]
	for _, c := range rec.Columns() {
		if d.f == CSV {
			rw.cols = append(rw.cols, newTextAppender(c))
		} else {
			rw.cols = append(rw.cols, NewValueAppender(c))
		}
	}
	if d.f == CSV && !d.started {
		d.out.buf = append(d.out.buf, rw.header...)
		d.started = true
	}
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		if d.f == CSV {
			for k, col := range rw.cols {
				if k > 0 {
					d.out.buf = append(d.out.buf, ',')
				}
				rw.cell = col(rw.cell[:0], i)
				d.out.buf = appendCSVField(d.out.buf, rw.cell)
			}
			d.out.buf = append(d.out.buf, '\n')
			d.rows++
			d.out.maybeFlush()
			continue
		}
		d.separator()
		d.out.buf = append(d.out.buf, '{')
		for k, col := range rw.cols {
			d.out.buf = append(d.out.buf, rw.keys[k]...)
			d.out.buf = col(d.out.buf, i)
		}
		d.out.buf = append(d.out.buf, '}')
		d.endRow()
	}
	return d.out.flush()
}

// Close finishes the document as EventWriter.Close does; for CSV with no
// record written it writes the header alone.
func (rw *RowWriter) Close() error {
	return rw.doc.close(func(b []byte) []byte { return append(b, rw.header...) })
}
