//go:build duckdb_arrow

package sqlengine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/ducktail/ducktail/base"
)

// testEnv is an engine over a fresh data directory.
type testEnv struct {
	t    testing.TB
	e    *Engine
	data string
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{data, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e, err := Open(Options{DataDir: data, TempDir: tmp, MemoryLimit: "512MB"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &testEnv{t: t, e: e, data: data}
}

// demoSchema is the stored schema of the demo topic (SPEC 5).
func demoSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: base.ColID, Type: arrow.PrimitiveTypes.Int64},
		{Name: base.ColTS, Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: base.ColEvent, Type: arrow.BinaryTypes.String},
		{Name: base.ColSub, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: base.ColTenant, Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "event", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
}

var events = []string{"buy", "click", "view"}

// rowValue and rowEvent define the demo rows: row id has value rowValue(id)
// and event rowEvent(id).
func rowValue(id int64) float64 { return float64(id)*0.5 + 1 }
func rowEvent(id int64) string  { return events[id%3] }

// makeBatch returns demo rows first..first+n-1.
func makeBatch(schema *arrow.Schema, first, n int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for id := first; id < first+n; id++ {
		for i, f := range schema.Fields() {
			fb := b.Field(i)
			switch f.Name {
			case base.ColID:
				fb.(*array.Int64Builder).Append(id)
			case base.ColTS:
				fb.(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000 + id))
			case base.ColEvent:
				fb.(*array.StringBuilder).Append("application/json")
			case base.ColTenant:
				fb.(*array.Uint32Builder).Append(uint32(id % 7))
			case "timestamp":
				fb.(*array.Int64Builder).Append(id * 10)
			case "event":
				fb.(*array.StringBuilder).Append(rowEvent(id))
			case "value":
				fb.(*array.Float64Builder).Append(rowValue(id))
			default:
				fb.AppendNull()
			}
		}
	}
	return b.NewRecordBatch()
}

// tail returns tail batches of the given sizes starting at first.
func tail(t testing.TB, schema *arrow.Schema, first int64, sizes ...int64) []TailBatch {
	var out []TailBatch
	for _, n := range sizes {
		rec := makeBatch(schema, first, n)
		t.Cleanup(rec.Release)
		out = append(out, TailBatch{FirstID: first, Rec: rec})
		first += n
	}
	return out
}

// writeSegment writes rows first..first+n-1 as a zstd Parquet segment under
// the data directory and returns its path.
func (env *testEnv) writeSegment(schema *arrow.Schema, stream string, first, n int64) string {
	env.t.Helper()
	dir := filepath.Join(env.data, "streams", "demo", stream)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		env.t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%020d-%020d.parquet", first, first+n-1))
	f, err := os.Create(path)
	if err != nil {
		env.t.Fatal(err)
	}
	rec := makeBatch(schema, first, n)
	defer rec.Release()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithStats(true))
	w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		env.t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		env.t.Fatal(err)
	}
	if err := w.Close(); err != nil { // closes f too
		env.t.Fatal(err)
	}
	return path
}

// query runs q and returns its rows as Go values (GetOneForMarshal).
func (env *testEnv) query(views []View, q string) [][]any {
	env.t.Helper()
	rows, err := queryRows(context.Background(), env.e, views, q)
	if err != nil {
		env.t.Fatalf("%s: %v", q, err)
	}
	return rows
}

func queryRows(ctx context.Context, e *Engine, views []View, q string) ([][]any, error) {
	res, err := e.Query(ctx, views, q)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	var out [][]any
	for res.Reader.Next() {
		rec := res.Reader.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]any, rec.NumCols())
			for c := range row {
				v := rec.Column(c).GetOneForMarshal(r)
				if s, ok := v.(string); ok {
					v = strings.Clone(s) // it points into the batch
				}
				row[c] = v
			}
			out = append(out, row)
		}
	}
	return out, res.Reader.Err()
}

// one returns the single value of a one-row, one-column result.
func one(t testing.TB, rows [][]any) any {
	t.Helper()
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("want one value, got %v", rows)
	}
	return rows[0][0]
}
