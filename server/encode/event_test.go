package encode

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var tsType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

func systemFields() []arrow.Field {
	return []arrow.Field{
		{Name: "_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "_ts", Type: tsType},
		{Name: "_event", Type: arrow.BinaryTypes.String},
		{Name: "_sub", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "_tenant", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	}
}

// topicSchema is the demo topic's stored schema.
func topicSchema() *arrow.Schema {
	return arrow.NewSchema(append(systemFields(),
		arrow.Field{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "event", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	), nil)
}

// untypedSchema is a plain stream with one typed property n.
func untypedSchema() *arrow.Schema {
	return arrow.NewSchema(append(systemFields(),
		arrow.Field{Name: "_content_type", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "_data", Type: arrow.BinaryTypes.Binary, Nullable: true},
		arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	), nil)
}

// record builds a record of s from a JSON array of row objects.
func record(t testing.TB, s *arrow.Schema, rows string) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, s, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("RecordFromJSON: %v", err)
	}
	t.Cleanup(rec.Release)
	return rec
}

const topicRows = `[
 {"_id":0,"_ts":1650661388844,"_event":"click","_sub":null,"_tenant":null,"timestamp":1650661388000,"event":"click","value":1.5},
 {"_id":1,"_ts":1650661388845,"_event":"view","_sub":"bob","_tenant":7,"timestamp":null,"event":"a,\"b\"","value":null}
]`

const topicJSON = `[{"id":0,"timestamp":1650661388844,"event":"click","data":{"timestamp":1650661388000,"event":"click","value":1.5}},` +
	`{"id":1,"timestamp":1650661388845,"event":"view","data":{"timestamp":null,"event":"a,\"b\"","value":null},"sub":"bob","tenant":7}]`

// _data is base64 in RecordFromJSON: "aGVsbG8KInEi" is `hello\n"q"`,
// "/wA=" is 0xff 0x00.
const untypedRows = `[
 {"_id":10,"_ts":5,"_event":"text/plain","_content_type":"text/plain","_data":"aGVsbG8KInEi","n":null},
 {"_id":11,"_ts":6,"_event":"application/octet-stream","_content_type":"application/octet-stream","_data":"/wA=","n":null},
 {"_id":12,"_ts":7,"_event":"counter","_content_type":null,"_data":null,"n":5}
]`

const untypedJSON = `[{"id":10,"timestamp":5,"event":"text/plain","data":"hello\n\"q\""},` +
	`{"id":11,"timestamp":6,"event":"application/octet-stream","data":"/wA=","encoding":"base64"},` +
	`{"id":12,"timestamp":7,"event":"counter","data":{"n":5}}]`

// writeEvents writes recs as events in format f.
func writeEvents(t *testing.T, f Format, s *arrow.Schema, recs ...arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	ew, err := NewEventWriter(&buf, f, s)
	if err != nil {
		t.Fatalf("NewEventWriter: %v", err)
	}
	for _, r := range recs {
		if err := ew.Write(r); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := ew.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func TestEventsJSON(t *testing.T) {
	f := func(name string, s *arrow.Schema, rows, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			rec := record(t, s, rows)
			got := writeEvents(t, JSON, s, rec)
			if string(got) != want {
				t.Errorf("JSON:\n got %s\nwant %s", got, want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON")
			}
			// NDJSON: the same objects, one per line.
			var objs []json.RawMessage
			if err := json.Unmarshal([]byte(want), &objs); err != nil {
				t.Fatal(err)
			}
			var nd strings.Builder
			for _, o := range objs {
				nd.Write(o)
				nd.WriteByte('\n')
			}
			if got := writeEvents(t, NDJSON, s, rec); string(got) != nd.String() {
				t.Errorf("NDJSON:\n got %s\nwant %s", got, nd.String())
			}
		})
	}
	f("topic", topicSchema(), topicRows, topicJSON)
	f("untyped", untypedSchema(), untypedRows, untypedJSON)
	f("empty", topicSchema(), `[]`, `[]`)
}

func TestEventsJSONManyRecords(t *testing.T) {
	s := topicSchema()
	rec := record(t, s, topicRows)
	empty := record(t, s, `[]`)
	got := writeEvents(t, JSON, s, rec, empty, rec)
	var evs []map[string]any
	if err := json.Unmarshal(got, &evs); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if len(evs) != 4 {
		t.Fatalf("got %d events, want 4", len(evs))
	}
	nd := writeEvents(t, NDJSON, s, rec, empty, rec)
	if n := bytes.Count(nd, []byte{'\n'}); n != 4 {
		t.Errorf("NDJSON has %d lines, want 4", n)
	}
}

func TestEventsCSV(t *testing.T) {
	f := func(name string, s *arrow.Schema, rows string, want [][]string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := writeEvents(t, CSV, s, record(t, s, rows))
			recs, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
			if err != nil {
				t.Fatalf("%v: %s", err, got)
			}
			want = append([][]string{{"id", "timestamp", "event", "data"}}, want...)
			if len(recs) != len(want) {
				t.Fatalf("got %d lines, want %d: %q", len(recs), len(want), got)
			}
			for k := range want {
				if strings.Join(recs[k], "\x00") != strings.Join(want[k], "\x00") {
					t.Errorf("line %d: got %q, want %q", k, recs[k], want[k])
				}
			}
			// Byte-identical to encoding/csv's writer.
			var ref bytes.Buffer
			cw := csv.NewWriter(&ref)
			if err := cw.WriteAll(want); err != nil {
				t.Fatal(err)
			}
			if ref.String() != string(got) {
				t.Errorf("differs from encoding/csv:\n got %q\nwant %q", got, ref.String())
			}
		})
	}
	f("topic", topicSchema(), topicRows, [][]string{
		{"0", "1650661388844", "click", `{"timestamp":1650661388000,"event":"click","value":1.5}`},
		{"1", "1650661388845", "view", `{"timestamp":null,"event":"a,\"b\"","value":null}`},
	})
	f("untyped", untypedSchema(), untypedRows, [][]string{
		{"10", "5", "text/plain", "hello\n\"q\""},
		{"11", "6", "application/octet-stream", "/wA="},
		{"12", "7", "counter", `{"n":5}`},
	})
	f("empty", topicSchema(), `[]`, nil)
	f("leading space and backslash-dot", untypedSchema(),
		`[{"_id":1,"_ts":1,"_event":" lead","_data":"XC4="}]`, // "\."
		[][]string{{"1", "1", " lead", `\.`}})
}

func TestEventsArrow(t *testing.T) {
	f := func(name string, s *arrow.Schema, rows ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			var recs []arrow.RecordBatch
			for _, r := range rows {
				recs = append(recs, record(t, s, r))
			}
			got := writeEvents(t, Arrow, s, recs...)
			rd, err := ipc.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("ipc.NewReader: %v", err)
			}
			defer rd.Release()
			if !rd.Schema().Equal(s) {
				t.Errorf("schema %s, want %s", rd.Schema(), s)
			}
			n := 0
			for rd.Next() {
				if n >= len(recs) {
					t.Fatalf("more batches than written")
				}
				if !array.RecordEqual(rd.RecordBatch(), recs[n]) {
					t.Errorf("batch %d differs", n)
				}
				n++
			}
			if err := rd.Err(); err != nil {
				t.Fatal(err)
			}
			if n != len(recs) {
				t.Errorf("read %d batches, want %d", n, len(recs))
			}
		})
	}
	f("topic", topicSchema(), topicRows, topicRows)
	f("untyped", untypedSchema(), untypedRows)
	f("empty", topicSchema())
}

func TestEventsEmpty(t *testing.T) {
	s := topicSchema()
	f := func(format Format, want string) {
		t.Helper()
		if got := writeEvents(t, format, s); string(got) != want {
			t.Errorf("%s with no record: got %q, want %q", format, got, want)
		}
	}
	f(JSON, "[]")
	f(NDJSON, "")
	f(CSV, "id,timestamp,event,data\n")
}

func TestEventSchemaErrors(t *testing.T) {
	f := func(name string, fields []arrow.Field, wantSub string) {
		t.Helper()
		_, err := NewEventWriter(io.Discard, JSON, arrow.NewSchema(fields, nil))
		if err == nil || !strings.Contains(err.Error(), wantSub) {
			t.Errorf("%s: err %v, want one containing %q", name, err, wantSub)
		}
	}
	f("no _id", systemFields()[1:], "_id")
	bad := systemFields()
	bad[1].Type = arrow.PrimitiveTypes.Int64
	f("_ts int64", bad, "_ts")
	bad = append(systemFields(), arrow.Field{Name: "_data", Type: arrow.BinaryTypes.String})
	f("_data utf8", bad, "_data")
	if _, err := NewEventWriter(io.Discard, Format(9), topicSchema()); err == nil {
		t.Error("unknown format accepted")
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errDisk
	}
	w.n -= len(p)
	return len(p), nil
}

func TestEventWriterErrors(t *testing.T) {
	s := topicSchema()
	rec := record(t, s, topicRows)
	ew, err := NewEventWriter(&failWriter{n: 10}, JSON, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := ew.Write(rec); !errors.Is(err, errDisk) {
		t.Fatalf("Write: %v, want disk full", err)
	}
	if err := ew.Write(rec); !errors.Is(err, errDisk) {
		t.Errorf("second Write: %v, want the sticky error", err)
	}
	if err := ew.Close(); !errors.Is(err, errDisk) {
		t.Errorf("Close: %v, want the sticky error", err)
	}

	ew, err = NewEventWriter(io.Discard, JSON, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := ew.Write(nil); err == nil {
		t.Error("nil record accepted")
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ew.Write(rec); err == nil {
		t.Error("Write after Close accepted")
	}
	if err := ew.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A record whose schema gained a typed column (SPEC 2: readers match
// columns by name) is written by the same writer.
func TestEventsSchemaGrowth(t *testing.T) {
	old := arrow.NewSchema(append(systemFields(),
		arrow.Field{Name: "_content_type", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "_data", Type: arrow.BinaryTypes.Binary, Nullable: true}), nil)
	r1 := record(t, old, `[{"_id":0,"_ts":1,"_event":"e","_data":"eA=="}]`)
	r2 := record(t, untypedSchema(), `[{"_id":1,"_ts":2,"_event":"counter","n":3}]`)
	got := writeEvents(t, JSON, untypedSchema(), r1, r2)
	want := `[{"id":0,"timestamp":1,"event":"e","data":"x"},{"id":1,"timestamp":2,"event":"counter","data":{"n":3}}]`
	if string(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// The event timestamp is epoch milliseconds whatever the _ts unit.
func TestEventTimestampUnits(t *testing.T) {
	f := func(unit arrow.TimeUnit, v int64, wantMS int64) {
		t.Helper()
		fields := systemFields()
		fields[1].Type = &arrow.TimestampType{Unit: unit, TimeZone: "UTC"}
		s := arrow.NewSchema(fields, nil)
		rec := record(t, s, `[{"_id":0,"_ts":`+itoa(v)+`,"_event":"e"}]`)
		got := writeEvents(t, NDJSON, s, rec)
		want := `{"id":0,"timestamp":` + itoa(wantMS) + `,"event":"e","data":{}}` + "\n"
		if string(got) != want {
			t.Errorf("unit %s: got %s, want %s", unit, got, want)
		}
	}
	f(arrow.Second, 2, 2000)
	f(arrow.Millisecond, 1650661388844, 1650661388844)
	f(arrow.Microsecond, 1650661388844999, 1650661388844)
	f(arrow.Microsecond, -1, -1)
	f(arrow.Nanosecond, 1650661388844999999, 1650661388844)
}

func itoa(v int64) string { return string(appendInt(nil, v)) }

func TestEventEncoder(t *testing.T) {
	if _, err := NewEventEncoder(arrow.NewSchema(systemFields()[1:], nil)); err == nil {
		t.Error("schema without _id accepted")
	}
	s := untypedSchema()
	enc, err := NewEventEncoder(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Bind(record(t, s, untypedRows)); err != nil {
		t.Fatal(err)
	}
	if enc.NumRows() != 3 {
		t.Errorf("NumRows = %d", enc.NumRows())
	}
	want := `{"id":11,"timestamp":6,"event":"application/octet-stream","data":"/wA=","encoding":"base64"}`
	if got := enc.AppendJSON(nil, 1); string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A dictionary-encoded _event and a large_binary _data are accepted.
func TestEventsEncodedColumns(t *testing.T) {
	fields := systemFields()
	fields[2].Type = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	fields = append(fields, arrow.Field{Name: "_data", Type: arrow.BinaryTypes.LargeBinary, Nullable: true})
	s := arrow.NewSchema(fields, nil)
	rec := record(t, s, `[{"_id":0,"_ts":1,"_event":"ping","_sub":"'a,b'","_tenant":4294967295,"_data":"cG9uZw=="}]`)
	got := writeEvents(t, JSON, s, rec)
	want := `[{"id":0,"timestamp":1,"event":"ping","data":"pong","sub":"'a,b'","tenant":4294967295}]`
	if string(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	got = writeEvents(t, CSV, s, rec)
	if want := "id,timestamp,event,data\n0,1,ping,pong\n"; string(got) != want {
		t.Errorf("CSV got %q, want %q", got, want)
	}
}
