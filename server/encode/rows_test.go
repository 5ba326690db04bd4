package encode

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// sqlSchema has the types DuckDB hands back through Arrow.
func sqlSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 18, Scale: 3}, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "tag", Type: arrow.BinaryTypes.StringView, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "avg", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ids", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
}

const sqlRows = `[
 {"n":1,"ts":1650661388844123,"amount":"123.450","name":"alice","tag":"x","ok":true,"avg":2.5,"ids":[1,2],"day":"2022-04-22"},
 {"n":null,"ts":null,"amount":null,"name":"b,\"c\"\nd","tag":null,"ok":null,"avg":null,"ids":null,"day":null},
 {"n":-9007199254740993,"ts":0,"amount":"-0.001","name":"","tag":"a long view string value","ok":false,"avg":1e-7,"ids":[],"day":"1970-01-01"}
]`

const sqlJSON = `[{"n":1,"ts":"2022-04-22T21:03:08.844123Z","amount":123.450,"name":"alice","tag":"x","ok":true,"avg":2.5,"ids":[1,2],"day":"2022-04-22"},` +
	`{"n":null,"ts":null,"amount":null,"name":"b,\"c\"\nd","tag":null,"ok":null,"avg":null,"ids":null,"day":null},` +
	`{"n":-9007199254740993,"ts":"1970-01-01T00:00:00.000000Z","amount":-0.001,"name":"","tag":"a long view string value","ok":false,"avg":1e-7,"ids":[],"day":"1970-01-01"}]`

func writeRows(t *testing.T, f Format, s *arrow.Schema, recs ...arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	rw, err := NewRowWriter(&buf, f, s)
	if err != nil {
		t.Fatalf("NewRowWriter: %v", err)
	}
	for _, r := range recs {
		if err := rw.Write(r); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := rw.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func TestRowsJSON(t *testing.T) {
	s := sqlSchema()
	rec := record(t, s, sqlRows)
	got := writeRows(t, JSON, s, rec)
	if string(got) != sqlJSON {
		t.Errorf("JSON:\n got %s\nwant %s", got, sqlJSON)
	}
	if !json.Valid(got) {
		t.Fatal("invalid JSON")
	}
	// Numbers stay exact when decoded as json.Number.
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatal(err)
	}
	if n := rows[2]["n"].(json.Number).String(); n != "-9007199254740993" {
		t.Errorf("int64 came back as %s", n)
	}

	nd := writeRows(t, NDJSON, s, rec, rec)
	lines := strings.Split(strings.TrimSuffix(string(nd), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("NDJSON: %d lines, want 6", len(lines))
	}
	var objs []json.RawMessage
	if err := json.Unmarshal([]byte(sqlJSON), &objs); err != nil {
		t.Fatal(err)
	}
	for k, l := range lines {
		if l != string(objs[k%3]) {
			t.Errorf("NDJSON line %d: got %s, want %s", k, l, objs[k%3])
		}
	}
}

func TestRowsCSV(t *testing.T) {
	s := sqlSchema()
	got := writeRows(t, CSV, s, record(t, s, sqlRows))
	recs, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	want := [][]string{
		{"n", "ts", "amount", "name", "tag", "ok", "avg", "ids", "day"},
		{"1", "2022-04-22T21:03:08.844123Z", "123.450", "alice", "x", "true", "2.5", "[1,2]", "2022-04-22"},
		{"", "", "", "b,\"c\"\nd", "", "", "", "", ""},
		{"-9007199254740993", "1970-01-01T00:00:00.000000Z", "-0.001", "", "a long view string value", "false", "1e-7", "[]", "1970-01-01"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d lines, want %d", len(recs), len(want))
	}
	for k := range want {
		if strings.Join(recs[k], "\x00") != strings.Join(want[k], "\x00") {
			t.Errorf("line %d: got %q, want %q", k, recs[k], want[k])
		}
	}
	var ref bytes.Buffer
	if err := csv.NewWriter(&ref).WriteAll(want); err != nil {
		t.Fatal(err)
	}
	if ref.String() != string(got) {
		t.Errorf("differs from encoding/csv:\n got %q\nwant %q", got, ref.String())
	}
}

func TestRowsArrow(t *testing.T) {
	s := sqlSchema()
	rec := record(t, s, sqlRows)
	got := writeRows(t, Arrow, s, rec)
	rd, err := ipc.NewReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	if !rd.Next() {
		t.Fatalf("no batch: %v", rd.Err())
	}
	if !array.RecordEqual(rd.RecordBatch(), rec) {
		t.Error("batch differs")
	}
	if rd.Next() {
		t.Error("extra batch")
	}
}

func TestRowsEmpty(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b c,d", Type: arrow.BinaryTypes.String},
	}, nil)
	f := func(format Format, want string) {
		t.Helper()
		if got := writeRows(t, format, s); string(got) != want {
			t.Errorf("%s: got %q, want %q", format, got, want)
		}
	}
	f(JSON, "[]")
	f(NDJSON, "")
	f(CSV, "a,\"b c,d\"\n")

	// Arrow: a stream with the schema and no batch.
	got := writeRows(t, Arrow, s)
	rd, err := ipc.NewReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	if !rd.Schema().Equal(s) {
		t.Errorf("schema %s", rd.Schema())
	}
	if rd.Next() {
		t.Error("unexpected batch")
	}
	if err := rd.Err(); err != nil {
		t.Error(err)
	}
}

func TestRowsColumnMismatch(t *testing.T) {
	s := sqlSchema()
	rw, err := NewRowWriter(io.Discard, JSON, arrow.NewSchema(s.Fields()[:2], nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Write(record(t, s, sqlRows)); err == nil {
		t.Error("record with more columns than the schema accepted")
	}
}

// TestRowsCSVNonFinite: NaN and the infinities are nan, inf and -inf in CSV
// (as DuckDB writes and reads them), not the null JSON has to say, which a
// CSV reader would take for a null.
func TestRowsCSVNonFinite(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	d, f := b.Field(0).(*array.Float64Builder), b.Field(1).(*array.Float32Builder)
	d.AppendValues([]float64{math.NaN(), math.Inf(1), math.Inf(-1), 1.5, 0}, []bool{true, true, true, true, false})
	f.AppendValues([]float32{float32(math.Inf(-1)), float32(math.NaN()), 2.25, float32(math.Inf(1)), 0}, []bool{true, true, true, true, false})
	rec := b.NewRecordBatch()
	defer rec.Release()
	want := "d,f\nnan,-inf\ninf,nan\n-inf,2.25\n1.5,inf\n,\n"
	if got := writeRows(t, CSV, s, rec); string(got) != want {
		t.Errorf("CSV:\n got %q\nwant %q", got, want)
	}
	if got := writeRows(t, JSON, s, rec); string(got) != `[{"d":null,"f":null},{"d":null,"f":null},{"d":null,"f":2.25},{"d":1.5,"f":null},{"d":null,"f":null}]` {
		t.Errorf("JSON: %s", got)
	}
}
