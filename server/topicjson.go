package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/valyala/fasthttp"
)

// postTopicJSON appends JSON rows to a topic (SPEC 2: "JSON objects POSTed
// to a topic the Pipet way are validated against that schema"): the body
// is one object (answered with its id) or an array of objects (answered
// with the array of ids), each with the topic's fields by name. A field the
// schema lacks, a missing non-nullable field or a value of the wrong type is
// a 400 naming the row and the field; nothing is stored then. The rows go
// through the same path as Arrow ingest, with _event the request's type or
// application/json.
func (s *Server) postTopicJSON(ctx *fasthttp.RequestCtx, st *engine.Stream, media string, ev engine.Event) {
	if media != "application/json" && !strings.HasSuffix(media, "+json") {
		s.writeError(ctx, base.Errorf(base.ErrUnsupported,
			"stream %s is a topic: POST its rows as JSON objects (Content-Type: application/json) or Arrow IPC batches to /ingest/{token}, not %s", st.Label(), media))
		return
	}
	if ev.Forced || ev.Index >= 0 {
		s.writeError(ctx, base.Errorf(base.ErrInvalid,
			"stream %s is a topic: its rows take the server's timestamp and the next ids (no Timestamp, no [n])", st.Label()))
		return
	}
	body, single, err := topicRows(st.Payload(), ev.Data)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	typ := ev.Type
	if typ == "" {
		typ = "application/json"
	}
	app, err := s.eng.AppendRows(ctx, st, body, typ)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetContentType("application/json")
	if single {
		ctx.SetBody(strconv.AppendInt(ctx.Response.Body()[:0], app.FirstID, 10))
		return
	}
	ctx.SetBody(appendIDs(ctx.Response.Body()[:0], app.FirstID, app.LastID+1))
}

// appendIDs appends the JSON array of the ids from first to end (exclusive).
func appendIDs(b []byte, first, end int64) []byte {
	b = append(b, '[')
	for id := first; id < end; id++ {
		if id > first {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return append(b, ']')
}

// topicRows checks data, a JSON object or array of objects, against
// payload and returns it as an Arrow IPC stream of one batch, and whether
// it was a single object.
func topicRows(payload *arrow.Schema, data []byte) (ipcBody []byte, single bool, err error) {
	data = bytes.TrimSpace(data)
	var objs []json.RawMessage
	switch {
	case len(data) > 0 && data[0] == '{':
		objs, single = []json.RawMessage{data}, true
	case len(data) > 0 && data[0] == '[':
		if err := json.Unmarshal(data, &objs); err != nil {
			return nil, false, base.Errorf(base.ErrInvalid, "body is not a JSON array of objects: %v", err)
		}
	default:
		return nil, false, base.Errorf(base.ErrInvalid, "body must be a JSON object or an array of objects")
	}
	if len(objs) == 0 {
		return nil, false, base.Errorf(base.ErrInvalid, "no rows: the array is empty")
	}
	if len(objs) > maxBulkEvents {
		// As a bulk push: one request's ids stay a bounded answer.
		return nil, false, base.Errorf(base.ErrTooLarge, "%d rows in one request, over the limit of %d", len(objs), maxBulkEvents)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, payload)
	defer b.Release()
	for i, raw := range objs {
		if err := checkTopicRow(payload, raw); err != nil {
			return nil, false, base.Errorf(base.ErrInvalid, "row %d: %v", i, err)
		}
		if err := unmarshalRow(b, raw); err != nil {
			return nil, false, base.Errorf(base.ErrInvalid, "row %d: %v", i, fieldError(payload, raw, err))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(payload))
	if err := w.Write(rec); err != nil {
		return nil, false, fmt.Errorf("topic rows: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, false, fmt.Errorf("topic rows: %w", err)
	}
	return buf.Bytes(), single, nil
}

// checkTopicRow refuses what arrow-go's JSON reader would let through: a
// field the schema lacks (it ignores them) and a missing or null value of
// a non-nullable field (it appends a null).
func checkTopicRow(payload *arrow.Schema, raw json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	for name := range obj {
		if len(payload.FieldIndices(name)) == 0 {
			return fmt.Errorf("field %q is not in the topic's schema", name)
		}
	}
	for _, f := range payload.Fields() {
		if v, ok := obj[f.Name]; !f.Nullable && (!ok || string(v) == "null") {
			return fmt.Errorf("field %q is not nullable and has no value", f.Name)
		}
	}
	return nil
}

// unmarshalRow appends one JSON object to b. arrow-go's reader is not
// fuzzed by us: a panic in it is a refused row, not a crashed server.
func unmarshalRow(b *array.RecordBuilder, raw json.RawMessage) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot read the row: %v", p)
		}
	}()
	return b.UnmarshalJSON(raw)
}

// fieldError names the field of the row raw whose value does not fit its
// Arrow type, rather than arrow-go's message about Go types ("cannot
// unmarshal x into Go value of type int64"): each value is read alone
// into a builder of its field's type. It returns err when no single field
// is to blame.
func fieldError(payload *arrow.Schema, raw json.RawMessage, err error) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return err
	}
	for _, f := range payload.Fields() {
		v, ok := obj[f.Name]
		if !ok {
			continue
		}
		b := array.NewBuilder(memory.DefaultAllocator, f.Type)
		ferr := unmarshalValue(b, v)
		b.Release()
		if ferr != nil {
			shown := string(v)
			if len(shown) > 40 {
				shown = shown[:40] + "..."
			}
			return fmt.Errorf("field %q: %s is not a valid %s", f.Name, shown, f.Type)
		}
	}
	return err
}

// unmarshalValue appends one JSON value to b, a panic in arrow-go's reader
// being an error.
func unmarshalValue(b array.Builder, v json.RawMessage) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot read the value: %v", p)
		}
	}()
	return b.UnmarshalJSON(append(append([]byte{'['}, v...), ']'))
}
