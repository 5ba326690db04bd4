package server

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/jtd"
)

// CSV event bodies (SPEC 4.2: text/csv is "one event per row, typed by
// header"). Limits: the body as for a bulk push, rows as bulk parts, each
// row's event as any event.
const (
	csvContentType = "text/csv"
	maxCSVBytes    = 1 << 20
	maxCSVRows     = maxBulkEvents
	// maxCSVEventBytes bounds the data of all the events of a CSV body
	// together. Each event repeats the header: a 90 KB header over 10,000
	// one-byte rows made 900 MB of events from a 1 MiB body.
	maxCSVEventBytes = 4 * maxCSVBytes
)

// utf8BOM is what spreadsheet programs put before a UTF-8 CSV export; it is
// not part of the first header name.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// csvTable is a parsed CSV body: the header and the rows, each with the line
// it starts on (1-based, counting the header's line as 1).
type csvTable struct {
	header []string
	rows   [][]string
	lines  []int
}

// parseCSV reads an RFC 4180 body whose first record names the fields. CRLF
// and LF line ends are both accepted, a trailing newline is fine. A line
// break inside a quoted field is LF (see lineBreaksLF). Every
// error wraps base.ErrInvalid and names the line, except the row count limit
// (base.ErrTooLarge).
func parseCSV(body []byte) (*csvTable, error) {
	if len(body) > maxCSVBytes {
		return nil, base.Errorf(base.ErrTooLarge, "CSV body is %d bytes, over the limit of %d", len(body), maxCSVBytes)
	}
	body = bytes.TrimPrefix(body, utf8BOM)
	if !utf8.Valid(body) {
		return nil, base.Errorf(base.ErrInvalid, "CSV line %d: invalid UTF-8", invalidUTF8Line(body))
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.LazyQuotes = false
	// 0: the header's field count binds every following row.
	r.FieldsPerRecord = 0
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, base.Errorf(base.ErrInvalid, "CSV body is empty: want a header row naming the fields, then one row per event")
	}
	if err != nil {
		return nil, csvError(err)
	}
	lineBreaksLF(header)
	// A mark left at the start of the first name (a second mark, or one
	// after blank lines) goes too: each event's document starts with that
	// name, and a reader would take the mark off, and the header line with
	// it if nothing else is on it (FuzzParseCSV found both).
	header[0] = strings.TrimLeft(header[0], "\ufeff")
	seen := make(map[string]int, len(header))
	for i, name := range header {
		switch {
		case name == "":
			return nil, base.Errorf(base.ErrInvalid, "CSV line 1: header field %d has an empty name", i+1)
		case strings.HasPrefix(name, "_"):
			return nil, base.Errorf(base.ErrInvalid, "CSV line 1: header field %q: field names may not start with _ (SPEC 2)", name)
		}
		if j, dup := seen[name]; dup {
			return nil, base.Errorf(base.ErrInvalid, "CSV line 1: header field %q appears twice (fields %d and %d)", name, j+1, i+1)
		}
		seen[name] = i
	}
	t := &csvTable{header: header}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if len(t.rows) == maxCSVRows {
			return nil, base.Errorf(base.ErrTooLarge, "CSV body has more than %d rows (the limit per request)", maxCSVRows)
		}
		line, _ := r.FieldPos(0)
		lineBreaksLF(rec)
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
	if len(t.rows) == 0 {
		return nil, base.Errorf(base.ErrInvalid, "CSV body has a header but no rows: each row after the header is one event")
	}
	return t, nil
}

// lineBreaksLF drops every CR that comes before an LF in rec's fields, so
// that a line break inside a field is always LF. encoding/csv already reads a
// quoted CRLF as LF, but only one CR of a run: "\r\r\n" reads as "\r\n",
// which any CSV reader reads back from our one-row document as "\n". Without
// this an event's stored document would not hold the values it was
// validated with (FuzzParseCSV found it).
func lineBreaksLF(rec []string) {
	for i, f := range rec {
		if !strings.Contains(f, "\r\n") {
			continue
		}
		b := make([]byte, 0, len(f))
		for j := 0; j < len(f); j++ {
			if f[j] == '\r' {
				k := j
				for k < len(f) && f[k] == '\r' {
					k++
				}
				if k == len(f) || f[k] != '\n' {
					b = append(b, f[j:k]...)
				}
				j = k - 1
				continue
			}
			b = append(b, f[j])
		}
		rec[i] = string(b)
	}
}

// csvError turns an encoding/csv error into a 400 naming the line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrFieldCount):
			return base.Errorf(base.ErrInvalid, "CSV line %d: the row has a different number of fields than the header", pe.StartLine)
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return base.Errorf(base.ErrInvalid, "CSV line %d, column %d: a quote in an unquoted field (quote the field and double the quote)", pe.Line, pe.Column)
		case errors.Is(pe.Err, csv.ErrQuote):
			return base.Errorf(base.ErrInvalid, "CSV line %d, column %d: bad quoting (a quoted field must end with a quote followed by a comma or line end)", pe.Line, pe.Column)
		}
		return base.Errorf(base.ErrInvalid, "CSV line %d: %v", pe.Line, pe.Err)
	}
	return base.Errorf(base.ErrInvalid, "CSV: %v", err)
}

// invalidUTF8Line returns the 1-based line of b's first invalid UTF-8 byte.
func invalidUTF8Line(b []byte) int {
	line := 1
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return line
		}
		if b[0] == '\n' {
			line++
		}
		b = b[n:]
	}
	return line
}

// appendCSVRecord appends rec as one canonical CSV line (LF-terminated,
// fields quoted only where needed). A record of one empty field is written
// as "" because an empty line is no record to a CSV reader.
func appendCSVRecord(b *bytes.Buffer, rec []string) error {
	if len(rec) == 1 && rec[0] == "" {
		b.WriteString("\"\"\n")
		return nil
	}
	w := csv.NewWriter(b)
	if err := w.Write(rec); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// csvEvents turns a CSV body into one event per row, in order: each event's
// data is a self-describing one-row CSV document, the header line then the
// row, both re-encoded canonically. def gives every event's type and
// timestamp (the caller sets the first event's Index); content type is
// text/csv. A row whose document is over engine.MaxEventBytes is refused
// (base.ErrTooLarge) naming its line.
//
// With sch, the JSON Type Definition of the events' type, each row is
// instead the JSON object of its fields, converted as sch says
// (jtd.Coerce), for the engine to validate and store as typed columns.
func csvEvents(body []byte, def engine.Event, sch *jtd.Schema) ([]engine.Event, error) {
	t, err := parseCSV(body)
	if err != nil {
		return nil, err
	}
	var head bytes.Buffer
	if err := appendCSVRecord(&head, t.header); err != nil {
		return nil, base.Errorf(base.ErrInvalid, "CSV line 1: %v", err)
	}
	// Typed rows repeat the names too, as JSON keys.
	if int64(len(t.rows))*int64(head.Len()) > maxCSVEventBytes {
		return nil, base.Errorf(base.ErrTooLarge, "CSV body: %d rows each repeating the %d-byte header come to more than the limit of %d bytes of events; send fewer rows a request",
			len(t.rows), head.Len(), maxCSVEventBytes)
	}
	typ := def.Type
	if typ == "" {
		typ = csvContentType
	}
	evs := make([]engine.Event, len(t.rows))
	total := 0
	var doc bytes.Buffer
	for i, row := range t.rows {
		if sch != nil {
			data, err := typedJSON(sch, csvRowObject(t.header, row))
			if err != nil {
				return nil, base.Errorf(base.ErrInvalid, "CSV line %d: %v", t.lines[i], err)
			}
			if total += len(data); total > maxCSVEventBytes {
				return nil, base.Errorf(base.ErrTooLarge, "CSV line %d: the events up to here come to more than the limit of %d bytes; send fewer rows a request",
					t.lines[i], maxCSVEventBytes)
			}
			evs[i] = engine.Event{ContentType: jsonContentType, Type: typ, Data: data, TS: def.TS, Forced: def.Forced, Index: -1}
			continue
		}
		doc.Reset()
		doc.Write(head.Bytes())
		if err := appendCSVRecord(&doc, row); err != nil {
			return nil, base.Errorf(base.ErrInvalid, "CSV line %d: %v", t.lines[i], err)
		}
		if doc.Len() > engine.MaxEventBytes {
			return nil, base.Errorf(base.ErrTooLarge, "CSV line %d: the row's event (header and row) is %d bytes, over the limit of %d",
				t.lines[i], doc.Len(), engine.MaxEventBytes)
		}
		if total += doc.Len(); total > maxCSVEventBytes {
			return nil, base.Errorf(base.ErrTooLarge, "CSV line %d: the events up to here, each repeating the header, come to more than the limit of %d bytes; send fewer rows a request",
				t.lines[i], maxCSVEventBytes)
		}
		evs[i] = engine.Event{ContentType: csvContentType, Type: typ, Data: bytes.Clone(doc.Bytes()),
			TS: def.TS, Forced: def.Forced, Index: -1}
	}
	return evs, nil
}

// csvRowObject returns a CSV row as an object of its header's names.
func csvRowObject(header, row []string) map[string]any {
	obj := make(map[string]any, len(header))
	for i, name := range header {
		obj[name] = row[i]
	}
	return obj
}
