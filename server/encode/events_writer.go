package encode

import (
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// csvEventHeader is the header line of events in CSV (SPEC 2).
const csvEventHeader = "id,timestamp,event,data\n"

// EventWriter streams events to an io.Writer in one Format. Write it one
// record at a time, then Close it. For JSON it writes '[' before the first
// event and ']' in Close; for CSV the header before the first record; for
// Arrow the schema before the first batch. Output is handed to the
// io.Writer at the end of each Write (and every ~64 KiB within one).
type EventWriter struct {
	doc  docWriter
	enc  EventEncoder
	cell []byte
}

// NewEventWriter returns a writer of events of the stored schema s (see
// NewEventEncoder for the columns it needs) to w in format f.
func NewEventWriter(w io.Writer, f Format, s *arrow.Schema) (*EventWriter, error) {
	doc, err := newDocWriter(w, f, s)
	if err != nil {
		return nil, err
	}
	if err := checkEventSchema(s); err != nil {
		return nil, err
	}
	return &EventWriter{doc: doc}, nil
}

// SetTyped makes the writer render typed rows with t (see
// EventEncoder.SetTyped).
func (ew *EventWriter) SetTyped(t TypedRows) { ew.enc.SetTyped(t) }

// Write writes every row of rec. rec is not retained or released. After an
// error from the io.Writer every later Write returns that error.
func (ew *EventWriter) Write(rec arrow.RecordBatch) error {
	d := &ew.doc
	if err := d.check(rec); err != nil {
		return err
	}
	if d.f == Arrow {
		return d.writeArrow(rec)
	}
	if err := ew.enc.Bind(rec); err != nil {
		return err
	}
	if d.f == CSV && !d.started {
		d.out.buf = append(d.out.buf, csvEventHeader...)
		d.started = true
	}
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		if d.f == CSV {
			d.out.buf, ew.cell = ew.enc.appendCSV(d.out.buf, ew.cell, i)
			d.rows++
			d.out.maybeFlush()
			continue
		}
		d.separator()
		d.out.buf = ew.enc.AppendJSON(d.out.buf, i)
		d.endRow()
	}
	return d.out.flush()
}

// Close finishes the document (']', the CSV header if nothing was written,
// the Arrow end-of-stream marker) and flushes it. It does not close the
// io.Writer. Calling it again returns the first error, if any.
func (ew *EventWriter) Close() error {
	return ew.doc.close(func(b []byte) []byte { return append(b, csvEventHeader...) })
}
