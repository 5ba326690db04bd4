package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/internal/retype"
)

const (
	clickType = `{"properties": {"url": {"type": "string"}, "xpath": {"elements": {"type": "string"}}}, "additionalProperties": true}`
	viewType  = `{"properties": {"url": {"type": "string"}}, "optionalProperties": {"n": {"type": "uint8"}, "kind": {"enum": ["a", "b"]}}}`
)

// rowsOf renders column col of every row of recs ("-" for null), in order.
func rowsOf(t *testing.T, recs []arrow.RecordBatch, col string) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		idx := r.Schema().FieldIndices(col)
		for i := 0; i < int(r.NumRows()); i++ {
			if len(idx) == 0 || r.Column(idx[0]).IsNull(i) {
				out = append(out, "-")
				continue
			}
			out = append(out, r.Column(idx[0]).ValueStr(i))
		}
	}
	return out
}

// streamRows reads every row of st, segments then tail, under its current
// schema, the way readers do.
func streamRows(t *testing.T, e *Engine, st *Stream) []arrow.RecordBatch {
	t.Helper()
	snap := st.Snapshot()
	defer snap.Release()
	var out []arrow.RecordBatch
	conform := func(r arrow.RecordBatch) {
		c, err := retype.Conform(r, st.Stored(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	for _, s := range snap.Manifest.Segments {
		recs, err := e.readSegment(context.Background(), s.Key)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			conform(r)
			r.Release()
		}
	}
	for _, b := range snap.Tail {
		conform(b.Record())
	}
	t.Cleanup(func() {
		for _, r := range out {
			r.Release()
		}
	})
	return out
}

// TestTypedEvents: typed rows are validated and stored as columns with
// _data null; the schema grows with each type; a flush of batches from
// before and after a type writes one segment of the current schema; a
// crash replays typed rows from the WAL; compaction merges segments of
// both schemas; a conflicting definition is refused.
func TestTypedEvents(t *testing.T) {
	ctx := context.Background()
	opts := Options{DataDir: t.TempDir(), manualFlush: true, Flush: FlushOptions{MaxRows: 1000}}
	e, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	name := base.StreamName{Account: "user", Name: "stream"}
	st, err := e.CreateEventStream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	appendOK := func(ev Event) {
		t.Helper()
		ev.Index = -1
		if _, err := e.AppendEvent(ctx, st, ev); err != nil {
			t.Fatalf("append %s: %v", ev.Data, err)
		}
	}
	// id 0: before any type, flushed into a segment without typed columns.
	appendOK(Event{ContentType: "application/json", Type: "click", Data: []byte(`{"url":"early"}`)})
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// id 1: buffered before the type exists.
	appendOK(Event{ContentType: "text/plain", Data: []byte("hello")})
	if _, created, err := e.PutEventType(ctx, name, "click", []byte(clickType)); err != nil || !created {
		t.Fatalf("PUT click: %v %v", created, err)
	}
	// ids 2, 3: typed.
	appendOK(Event{ContentType: "application/json", Type: "click", Data: []byte(`{"url":"u1","xpath":["a","b"],"extra":1}`)})
	if _, _, err := e.PutEventType(ctx, name, "view", []byte(viewType)); err != nil {
		t.Fatalf("PUT view: %v", err)
	}
	appendOK(Event{ContentType: "text/plain;charset=UTF-8", Type: "view", Data: []byte(`{"url":"v","n":7,"kind":"b"}`)})

	for _, c := range []struct {
		ev   Event
		kind error
		msg  string
	}{
		{Event{ContentType: "application/json", Type: "click", Data: []byte(`{"url":"u","xpath":["a",1]}`)}, base.ErrInvalid, `"/xpath/1"`},
		{Event{ContentType: "application/json", Type: "view", Data: []byte(`{"url":"u","n":256}`)}, base.ErrInvalid, `"/n"`},
		{Event{ContentType: "application/json", Type: "click", Data: []byte(`not json`)}, base.ErrInvalid, "not JSON"},
		{Event{ContentType: "image/png", Type: "click", Data: []byte(`{}`)}, base.ErrUnsupported, "application/json"},
	} {
		c.ev.Index = -1
		_, err := e.AppendEvent(ctx, st, c.ev)
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("append %s: %v, want %v with %q", c.ev.Data, err, c.kind, c.msg)
		}
	}
	// A bulk push with one bad typed event stores nothing.
	if _, err := e.AppendEvents(ctx, st, []Event{
		{ContentType: "application/json", Type: "view", Data: []byte(`{"url":"ok"}`), Index: -1},
		{ContentType: "application/json", Type: "view", Data: []byte(`{}`), Index: -1},
	}); !errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), "event 1") {
		t.Fatalf("bulk with a bad event: %v", err)
	}

	// Conflicts: url is utf8; a property maps to one Arrow type.
	if _, _, err := e.PutEventType(ctx, name, "other", []byte(`{"properties": {"url": {"type": "int32"}}}`)); !errors.Is(err, base.ErrConflict) || !strings.Contains(err.Error(), `"url"`) {
		t.Fatalf("conflicting type: %v", err)
	}
	if _, _, err := e.PutEventType(ctx, name, "view", []byte(`{"properties": {"url": {"type": "string"}}, "optionalProperties": {"n": {"type": "int8"}}}`)); !errors.Is(err, base.ErrConflict) || !strings.Contains(err.Error(), `"n"`) {
		t.Fatalf("incompatible redefinition: %v", err)
	}

	wantURL := []string{"-", "-", "u1", "v"}
	wantData := []string{`{"url":"early"}`, "hello", "-", "-"}
	check := func(stage string) {
		t.Helper()
		recs := streamRows(t, e, st)
		got := map[string][]string{"url": rowsOf(t, recs, "url"), "_data": rowsOf(t, recs, "_data"),
			"n": rowsOf(t, recs, "n"), "kind": rowsOf(t, recs, "kind"), "xpath": rowsOf(t, recs, "xpath")}
		want := map[string][]string{"url": wantURL, "_data": nil, "n": {"-", "-", "-", "7"}, "kind": {"-", "-", "-", "b"},
			"xpath": {"-", "-", `["a","b"]`, "-"}}
		for k, w := range want {
			if k == "_data" {
				for i, d := range wantData {
					g := got[k][i]
					if d != "-" && g != "-" {
						g = d // binary renders base64; only nullness matters here
					}
					if g != d {
						t.Fatalf("%s: _data row %d = %s, want %s", stage, i, got[k][i], d)
					}
				}
				continue
			}
			if strings.Join(got[k], "|") != strings.Join(w, "|") {
				t.Fatalf("%s: %s = %q, want %q", stage, k, got[k], w)
			}
		}
	}
	check("buffered")

	// A crash: typed rows come back from the WAL, rebuilt as typed rows.
	e.log.Close()
	e.lock.Close()
	if e, err = Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st, _ = e.Stream(name)
	if got := len(st.EventTypes()); got != 2 {
		t.Fatalf("types after restart: %d", got)
	}
	check("replayed")

	// One segment with the current schema for batches old and new.
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	segs := snap.Manifest.Segments
	snap.Release()
	if len(segs) != 2 {
		t.Fatalf("segments: %d", len(segs))
	}
	recs, err := e.readSegment(ctx, segs[1].Key)
	if err != nil {
		t.Fatal(err)
	}
	if s := recs[0].Schema(); len(s.FieldIndices("url")) != 1 || len(s.FieldIndices("kind")) != 1 {
		t.Fatalf("flushed segment schema %s", s)
	}
	for _, r := range recs {
		r.Release()
	}
	check("flushed")

	// Compaction merges the segment from before the types with the one after.
	n, err := e.compact(ctx, st)
	if err != nil || n != 2 {
		t.Fatalf("compact: %d %v", n, err)
	}
	check("compacted")

	// A compatible redefinition keeps every column, even one it drops.
	if _, created, err := e.PutEventType(ctx, name, "view", []byte(`{"properties": {"url": {"type": "string"}}}`)); err != nil || created {
		t.Fatalf("compatible redefinition: %v %v", created, err)
	}
	if len(st.Stored().FieldIndices("n")) != 1 {
		t.Fatalf("column n went away: %s", st.Stored())
	}
	check("redefined")
}

// TestPutEventTypeRefusals: what a definition may not be.
func TestPutEventTypeRefusals(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, Options{DataDir: t.TempDir(), manualFlush: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	name := base.StreamName{Account: "user", Name: "stream"}
	for _, c := range []struct {
		def  string
		kind error
		msg  string
	}{
		{`{"properties": {"id": {"type": "int64"}}}`, base.ErrInvalid, "int8, uint8, int16, uint16, int32 and uint32"},
		{`{"elements": {"type": "string"}}`, base.ErrInvalid, "properties form"},
		{`{"properties": {"_ts": {"type": "string"}}}`, base.ErrInvalid, `"_ts"`},
		{`{"properties": {}, "nullable": true}`, base.ErrInvalid, "nullable"},
		{`{"properties": `, base.ErrInvalid, "not valid JSON"},
		{`{"properties": {"a": {"ref": "nope"}}}`, base.ErrInvalid, "nope"},
		{`{"properties": {"a": {"type": "string"}}}` + strings.Repeat(" ", MaxTypeBytes), base.ErrTooLarge, "limit"},
		// Nested names DuckDB cannot keep apart (struct fields): 400, not
		// the 409 of a top-level clash with the stream's columns.
		{`{"properties": {"s": {"properties": {"a": {"type": "string"}, "A": {"type": "int8"}}}}}`, base.ErrInvalid,
			`schema /properties/s: properties "A" and "a" differ only in case`},
		{`{"properties": {"l": {"elements": {"properties": {"x": {}}, "optionalProperties": {"X": {}}}}}}`, base.ErrInvalid,
			`schema /properties/l/elements: properties "x" and "X"`},
		{`{"definitions": {"d": {"properties": {"": {"type": "string"}}}}, "properties": {"s": {"values": {"ref": "d"}}}}`, base.ErrInvalid,
			`schema /definitions/d: property ""`},
		{`{"properties": {"s": {"properties": {}}}}`, base.ErrInvalid, "struct<> cannot be stored in Parquet"},
	} {
		if _, _, err := e.PutEventType(ctx, name, "t", []byte(c.def)); !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("PUT %.60s: %v, want %v with %q", c.def, err, c.kind, c.msg)
		}
	}
	if _, err := e.Stream(name); err == nil {
		t.Fatalf("a refused definition created the stream")
	}
	// Nor can a redefinition bring a nested case clash in.
	if _, _, err := e.PutEventType(ctx, name, "r", []byte(`{"properties": {"s": {"properties": {"a": {}}}}}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.PutEventType(ctx, name, "r", []byte(`{"properties": {"s": {"properties": {"a": {}}}, "t": {"properties": {"b": {}, "B": {}}}}}`)); !errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), `schema /properties/t: properties "B" and "b"`) {
		t.Fatalf("redefinition with a nested case clash: %v", err)
	}
	// A recursive definition is stored as JSON text where it recurses.
	def := `{"definitions": {"node": {"properties": {"v": {"type": "int32"}}, "optionalProperties": {"next": {"ref": "node"}}}},
		"properties": {"head": {"ref": "node"}}}`
	if _, _, err := e.PutEventType(ctx, name, "list", []byte(def)); err != nil {
		t.Fatal(err)
	}
	st, _ := e.Stream(name)
	f := st.Stored().Field(st.Stored().FieldIndices("head")[0])
	if f.Type.String() != "struct<v: int32 nullable, next: utf8 nullable>" {
		t.Fatalf("head is %s", f.Type)
	}
	if _, err := e.AppendEvent(ctx, st, Event{ContentType: "application/json", Type: "list", Index: -1,
		Data: []byte(`{"head":{"v":1,"next":{"v":2}}}`)}); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	defer snap.Release()
	rec := snap.Tail[0].Record()
	head := rec.Column(rec.Schema().FieldIndices("head")[0]).(*array.Struct)
	if got := head.Field(1).ValueStr(0); got != `{"v":2}` {
		t.Fatalf("recursive part: %s", got)
	}
}

// TestTypedEventBodies: what a typed body may be, beyond RFC 8927: one
// leading byte order mark is ignored (RFC 8259 section 8.1), also at
// replay; a value its column cannot hold is refused naming the element
// and the schema, as validation errors are.
func TestTypedEventBodies(t *testing.T) {
	ctx := context.Background()
	opts := Options{DataDir: t.TempDir(), manualFlush: true}
	e, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	name := base.StreamName{Account: "user", Name: "stream"}
	def := `{"properties": {"a": {"type": "int8"}}, "optionalProperties": {"t": {"type": "timestamp"}, "l": {"elements": {"type": "float32"}}}}`
	if _, _, err := e.PutEventType(ctx, name, "k", []byte(def)); err != nil {
		t.Fatal(err)
	}
	st, _ := e.Stream(name)
	bom := "\xEF\xBB\xBF"
	for _, c := range []struct {
		body string
		msg  string // "" when accepted
	}{
		{bom + `{"a":5}`, ""},
		{bom + ` {"a":6,"t":"9999-12-31T23:59:59.999Z"}`, ""},
		{bom + bom + `{"a":7}`, "not JSON"},
		{`{"a":8}` + bom, "not JSON"},
		{`{"a":1,"t":"9999-12-31T23:59:60Z"}`, `"/t": "9999-12-31T23:59:60Z" is outside the range of timestamps, 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z (schema /optionalProperties/t/type)`},
		{`{"a":1,"t":"0000-01-01T00:00:00+01:00"}`, `"/t": "0000-01-01T00:00:00+01:00" is outside the range`},
		{`{"a":1,"l":[1e39]}`, `event type k: "/l/0": 1e39 is beyond the range of float32 (schema /optionalProperties/l/elements/type)`},
	} {
		_, err := e.AppendEvent(ctx, st, Event{ContentType: "application/json", Type: "k", Data: []byte(c.body), Index: -1})
		switch {
		case c.msg == "" && err != nil:
			t.Errorf("%q: %v", c.body, err)
		case c.msg != "" && (!errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), c.msg)):
			t.Errorf("%q: %v, want an invalid-input error with %s", c.body, err, c.msg)
		}
	}
	check := func(stage string) {
		t.Helper()
		recs := streamRows(t, e, st)
		if got := strings.Join(rowsOf(t, recs, "a"), "|"); got != "5|6" {
			t.Fatalf("%s: a = %s", stage, got)
		}
		if got := strings.Join(rowsOf(t, recs, "t"), "|"); got != "-|9999-12-31T23:59:59.999Z" {
			t.Fatalf("%s: t = %s", stage, got)
		}
	}
	check("buffered")
	// A crash: the WAL keeps the body with its mark, and replay trims it.
	e.log.Close()
	e.lock.Close()
	if e, err = Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st, _ = e.Stream(name)
	check("replayed")
}
