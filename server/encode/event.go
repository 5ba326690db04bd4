package encode

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ducktail/ducktail/base"
)

// EventEncoder renders the rows of stored records as events (SPEC 2). It is
// bound to one record at a time with Bind, which must be called before
// AppendJSON; the zero value is ready for Bind, and NewEventEncoder checks
// a schema up front. The SSE encoder uses it for its "data: " lines.
type EventEncoder struct {
	rec arrow.RecordBatch

	id, event     ValueAppender // JSON of _id and _event
	ts            func(i int) int64
	sub, tenant   arrow.Array // may be nil
	subJSON       ValueAppender
	tenantJSON    ValueAppender
	data          arrow.Array // _data, may be nil
	dataValue     func(i int) []byte
	payload       []ValueAppender
	payloadKeys   [][]byte // `"name":` of each payload column
	payloadIdx    []int    // column index of each payload column
	payloadSchema *arrow.Schema

	// CSV text of _id and _event.
	idText, eventText ValueAppender

	// Typed rows (SPEC 2): their data object comes from typed, per event
	// type, cached for the bound record.
	typed      TypedRows
	eventValue func(i int) string
	typedApps  map[string]ValueAppender
}

// TypedRows renders the data object of typed rows: rows whose _data is
// null and whose event type has a JSON Type Definition. Appender returns the
// appender of the object of rec's rows of type event, or nil when event has
// no definition (the row's payload columns are then written as they are).
type TypedRows interface {
	Appender(rec arrow.RecordBatch, event string) ValueAppender
}

// SetTyped makes the encoder render typed rows with t (nil: every payload
// column, as for topic rows).
func (e *EventEncoder) SetTyped(t TypedRows) { e.typed = t }

// NewEventEncoder returns an encoder for records of the stored schema s: it
// needs _id (int64), _ts (timestamp) and _event (utf8); _sub, _tenant,
// _data (binary) and payload columns are optional.
func NewEventEncoder(s *arrow.Schema) (*EventEncoder, error) {
	if s == nil {
		return nil, fmt.Errorf("encode: nil event schema")
	}
	if err := checkEventSchema(s); err != nil {
		return nil, err
	}
	return &EventEncoder{}, nil
}

// checkEventSchema checks the types of the system columns of s.
func checkEventSchema(s *arrow.Schema) error {
	need := []struct {
		name     string
		required bool
		ok       func(arrow.DataType) bool
		want     string
	}{
		{base.ColID, true, func(t arrow.DataType) bool { return t.ID() == arrow.INT64 }, "int64"},
		{base.ColTS, true, func(t arrow.DataType) bool { return t.ID() == arrow.TIMESTAMP }, "timestamp"},
		{base.ColEvent, true, isStringType, "utf8"},
		{base.ColSub, false, isStringType, "utf8"},
		{base.ColTenant, false, isIntegerType, "an integer type"},
		{base.ColData, false, isBinaryType, "binary"},
	}
	for _, n := range need {
		idx := s.FieldIndices(n.name)
		if len(idx) == 0 {
			if n.required {
				return fmt.Errorf("encode: event schema has no %s column", n.name)
			}
			continue
		}
		if t := s.Field(idx[0]).Type; !n.ok(t) {
			return fmt.Errorf("encode: event column %s is %s, want %s", n.name, t, n.want)
		}
	}
	return nil
}

func isStringType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	case arrow.DICTIONARY:
		return isStringType(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}

func isIntegerType(t arrow.DataType) bool {
	return arrow.IsInteger(t.ID())
}

func isBinaryType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return true
	}
	return false
}

// column returns the first column of rec named name, or nil.
func column(rec arrow.RecordBatch, name string) arrow.Array {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil
	}
	return rec.Column(idx[0])
}

// Bind makes the encoder render rec's rows. Columns are found by name, so
// records of a stream whose schema grew (new typed columns) can be mixed.
// rec is only read until the next Bind; it is not retained past that.
func (e *EventEncoder) Bind(rec arrow.RecordBatch) error {
	if rec == nil {
		return fmt.Errorf("encode: nil record")
	}
	s := rec.Schema()
	if err := checkEventSchema(s); err != nil {
		return err
	}
	e.rec = rec
	idCol := column(rec, base.ColID)
	e.id = NewValueAppender(idCol)
	e.idText = newTextAppender(idCol)
	tsCol, ok := column(rec, base.ColTS).(*array.Timestamp)
	if !ok {
		return fmt.Errorf("encode: event column %s is not a timestamp array", base.ColTS)
	}
	e.ts = tsMillis(tsCol)
	evCol := column(rec, base.ColEvent)
	e.event = NewValueAppender(evCol)
	e.eventText = newTextAppender(evCol)

	e.sub, e.subJSON = nil, nil
	if c := column(rec, base.ColSub); c != nil && c.NullN() < c.Len() {
		e.sub, e.subJSON = c, NewValueAppender(c)
	}
	e.tenant, e.tenantJSON = nil, nil
	if c := column(rec, base.ColTenant); c != nil && c.NullN() < c.Len() {
		e.tenant, e.tenantJSON = c, NewValueAppender(c)
	}
	e.data, e.dataValue = nil, nil
	if c := column(rec, base.ColData); c != nil && c.NullN() < c.Len() {
		e.data, e.dataValue = c, binaryValue(c)
	}

	if s != e.payloadSchema {
		e.payloadKeys, e.payloadIdx = e.payloadKeys[:0], e.payloadIdx[:0]
		for k, f := range s.Fields() {
			if strings.HasPrefix(f.Name, "_") {
				continue
			}
			e.payloadKeys = append(e.payloadKeys, appendKey(nil, f.Name))
			e.payloadIdx = append(e.payloadIdx, k)
		}
		e.payloadSchema = s
	}
	e.payload = e.payload[:0]
	for _, k := range e.payloadIdx {
		e.payload = append(e.payload, NewValueAppender(rec.Column(k)))
	}
	e.eventValue = nil
	clear(e.typedApps)
	if e.typed != nil {
		switch a := evCol.(type) {
		case *array.String:
			e.eventValue = a.Value
		case *array.Dictionary:
			if d, ok := a.Dictionary().(*array.String); ok {
				e.eventValue = func(i int) string { return d.Value(a.GetValueIndex(i)) }
			}
		}
	}
	return nil
}

// appendData appends the data object of row i, a typed or topic row.
func (e *EventEncoder) appendData(dst []byte, i int) []byte {
	if e.eventValue != nil {
		ev := e.eventValue(i)
		app, ok := e.typedApps[ev]
		if !ok {
			app = e.typed.Appender(e.rec, ev)
			if e.typedApps == nil {
				e.typedApps = make(map[string]ValueAppender)
			}
			e.typedApps[ev] = app
		}
		if app != nil {
			return app(dst, i)
		}
	}
	return e.appendPayload(dst, i)
}

// tsMillis returns the epoch milliseconds of a timestamp column's rows
// (floored for finer units).
func tsMillis(a *array.Timestamp) func(int) int64 {
	vals := a.Values()
	switch a.DataType().(*arrow.TimestampType).Unit {
	case arrow.Second:
		return func(i int) int64 { return int64(vals[i]) * 1000 }
	case arrow.Microsecond:
		return func(i int) int64 { return floorDiv(int64(vals[i]), 1e3) }
	case arrow.Nanosecond:
		return func(i int) int64 { return floorDiv(int64(vals[i]), 1e6) }
	default:
		return func(i int) int64 { return int64(vals[i]) }
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// binaryValue returns the byte accessor of a binary-like column.
func binaryValue(c arrow.Array) func(int) []byte {
	switch a := c.(type) {
	case *array.Binary:
		return a.Value
	case *array.LargeBinary:
		return a.Value
	case *array.BinaryView:
		return a.Value
	}
	return func(int) []byte { return nil }
}

// NumRows returns the number of rows of the bound record.
func (e *EventEncoder) NumRows() int {
	if e.rec == nil {
		return 0
	}
	return int(e.rec.NumRows())
}

// untyped reports whether row i is an untyped event (its _data is set).
func (e *EventEncoder) untyped(i int) bool {
	return e.data != nil && e.data.IsValid(i)
}

// AppendJSON appends row i of the bound record as an event object:
// {"id","timestamp","event","data"[,"encoding"][,"sub"][,"tenant"]}.
func (e *EventEncoder) AppendJSON(dst []byte, i int) []byte {
	dst = append(dst, `{"id":`...)
	dst = e.id(dst, i)
	dst = append(dst, `,"timestamp":`...)
	dst = appendInt(dst, e.ts(i))
	dst = append(dst, `,"event":`...)
	dst = e.event(dst, i)
	dst = append(dst, `,"data":`...)
	if e.untyped(i) {
		b := e.dataValue(i)
		if utf8.Valid(b) {
			dst = appendJSONBytes(dst, b)
		} else {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, b)
			dst = append(dst, `","encoding":"base64"`...)
		}
	} else {
		dst = e.appendData(dst, i)
	}
	if e.sub != nil && e.sub.IsValid(i) {
		dst = append(dst, `,"sub":`...)
		dst = e.subJSON(dst, i)
	}
	if e.tenant != nil && e.tenant.IsValid(i) {
		dst = append(dst, `,"tenant":`...)
		dst = e.tenantJSON(dst, i)
	}
	return append(dst, '}')
}

// appendPayload appends the object of row i's user fields.
func (e *EventEncoder) appendPayload(dst []byte, i int) []byte {
	dst = append(dst, '{')
	for k, f := range e.payload {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e.payloadKeys[k]...)
		dst = f(dst, i)
	}
	return append(dst, '}')
}

// appendCSV appends row i as the CSV line id,timestamp,event,data. cell is
// scratch space; the grown scratch is returned for reuse.
func (e *EventEncoder) appendCSV(dst, cell []byte, i int) (out, scratch []byte) {
	dst = e.idText(dst, i) // digits never need quotes
	dst = append(dst, ',')
	dst = appendInt(dst, e.ts(i))
	dst = append(dst, ',')
	cell = e.eventText(cell[:0], i)
	dst = appendCSVField(dst, cell)
	dst = append(dst, ',')
	if e.untyped(i) {
		b := e.dataValue(i)
		if utf8.Valid(b) {
			dst = appendCSVField(dst, b)
		} else {
			dst = base64.StdEncoding.AppendEncode(dst, b) // never needs quotes
		}
	} else {
		cell = e.appendData(cell[:0], i)
		dst = appendCSVField(dst, cell)
	}
	return append(dst, '\n'), cell
}
