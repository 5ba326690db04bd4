package parquetbench

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

const (
	flushRows    = 1_000_000
	batchRows    = 10_000
	rowGroupRows = 128 << 10
)

// writeFunc writes recs (schema s) as one Parquet file to path.
type writeFunc func(path string, s *arrow.Schema, recs []arrow.RecordBatch) error

// BenchmarkFlush writes the same 1M demo rows with each library. MB/s is
// relative to the records' Arrow in-memory size; cpu-ms/op and MB/cpu-s
// count the process's CPU time (GC included), which a loaded machine
// disturbs less than wall time.
func BenchmarkFlush(b *testing.B) {
	recs := segmenttest.DemoBatches(memory.DefaultAllocator, 0, flushRows, batchRows)
	defer segmenttest.Release(recs)
	s := segmenttest.DemoSchema()
	for _, bc := range []struct {
		name  string
		write writeFunc
	}{
		{"pqarrow", writePqarrow},
		{"parquet-go", writeParquetGo},
		{"parquet-go-delta", writeParquetGoDelta},
		{"segment.Write", writeSegment},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "flush.parquet")
			b.SetBytes(segmenttest.Size(recs))
			b.ReportAllocs()
			cpu0 := segmenttest.CPUTime()
			for b.Loop() {
				if err := bc.write(path, s, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := (segmenttest.CPUTime() - cpu0).Seconds() / float64(b.N)
			b.ReportMetric(cpu*1000, "cpu-ms/op")
			b.ReportMetric(float64(segmenttest.Size(recs))/1e6/cpu, "MB/cpu-s")
			if err := verify(path); err != nil {
				b.Fatal(err)
			}
			if fi, err := os.Stat(path); err == nil {
				b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
			}
		})
	}
}

// TestFlushWritersAgree runs each writer once on a smaller input and checks
// the file reads back, so `go test` covers the benchmark's code.
func TestFlushWritersAgree(t *testing.T) {
	recs := segmenttest.DemoBatches(memory.DefaultAllocator, 0, 50_000, batchRows)
	defer segmenttest.Release(recs)
	for name, write := range map[string]writeFunc{"pqarrow": writePqarrow, "parquet-go": writeParquetGo, "parquet-go-delta": writeParquetGoDelta, "segment.Write": writeSegment} {
		path := filepath.Join(t.TempDir(), "f.parquet")
		if err := write(path, segmenttest.DemoSchema(), recs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := verifyN(path, 50_000); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// createBuffered creates path and returns it behind a 1 MiB buffer.
func createBuffered(path string) (*os.File, *bufio.Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, bufio.NewWriterSize(f, 1<<20), nil
}

func finish(f *os.File, bw *bufio.Writer, err error) error {
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writePqarrow is the plain pqarrow way: WriteBuffered cuts row groups at
// MaxRowGroupLength; zstd, statistics, schema stored, and like parquet-go
// below a dictionary on string columns only (pqarrow's default, a
// dictionary on every column, costs 1.7x the CPU and makes a 5.2 MiB file
// here: _id and _ts never repeat).
func writePqarrow(path string, s *arrow.Schema, recs []arrow.RecordBatch) error {
	f, bw, err := createBuffered(path)
	if err != nil {
		return err
	}
	popts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(compress.DefaultCompressionLevel),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithDictionaryDefault(false),
	}
	for _, f := range s.Fields() {
		if f.Type.ID() == arrow.STRING {
			popts = append(popts, parquet.WithDictionaryFor(f.Name, true))
		}
	}
	props := parquet.NewWriterProperties(popts...)
	fw, err := pqarrow.NewFileWriter(s, bw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return finish(f, bw, err)
	}
	for _, r := range recs {
		if err = fw.WriteBuffered(r); err != nil {
			break
		}
	}
	if cerr := fw.Close(); err == nil {
		err = cerr
	}
	return finish(f, bw, err)
}

// writeSegment is storage/segment's writer: pqarrow, with utf8 columns
// handed over as dictionary arrays built with a Go map (see
// storage/segment/dict.go), plus its checks and CRC.
func writeSegment(path string, s *arrow.Schema, recs []arrow.RecordBatch) error {
	f, bw, err := createBuffered(path)
	if err != nil {
		return err
	}
	_, err = segment.Write(bw, s, recs, segment.WriterOptions{RowGroupRows: rowGroupRows})
	return finish(f, bw, err)
}

// parquetNode returns the parquet-go node of an Arrow field, for the types
// of the stored schema. Strings are dictionary-encoded, as pqarrow does by
// default; with delta, _id and _ts are DELTA_BINARY_PACKED as in
// storage/segment.
func parquetNode(f arrow.Field, delta bool) (pq.Node, error) {
	var n pq.Node
	switch t := f.Type.(type) {
	case *arrow.Int64Type:
		n = pq.Int(64)
		if delta && f.Name == "_id" {
			n = pq.Encoded(n, &pq.DeltaBinaryPacked)
		}
	case *arrow.Uint32Type:
		n = pq.Uint(32)
	case *arrow.Float64Type:
		n = pq.Leaf(pq.DoubleType)
	case *arrow.StringType:
		n = pq.Encoded(pq.String(), &pq.RLEDictionary)
	case *arrow.TimestampType:
		if t.Unit != arrow.Millisecond {
			return nil, fmt.Errorf("unsupported timestamp unit %s", t.Unit)
		}
		n = pq.TimestampAdjusted(pq.Millisecond, t.TimeZone != "")
		if delta {
			n = pq.Encoded(n, &pq.DeltaBinaryPacked)
		}
	default:
		return nil, fmt.Errorf("field %s: type %s not handled", f.Name, f.Type)
	}
	if f.Nullable {
		n = pq.Optional(n)
	}
	return n, nil
}

// writeParquetGo builds a parquet-go schema from the Arrow schema at run
// time and writes each record's columns through the writer's column
// writers as parquet.Values (reused buffers; strings point into the Arrow
// data, no copies). parquet.Group sorts its fields by name, so the file's
// column order differs from the Arrow schema's: a product would need an
// ordered Node implementation.
func writeParquetGo(path string, s *arrow.Schema, recs []arrow.RecordBatch) error {
	return parquetGo(path, s, recs, false)
}

// writeParquetGoDelta is writeParquetGo with _id and _ts delta-encoded.
func writeParquetGoDelta(path string, s *arrow.Schema, recs []arrow.RecordBatch) error {
	return parquetGo(path, s, recs, true)
}

func parquetGo(path string, s *arrow.Schema, recs []arrow.RecordBatch, delta bool) error {
	group := pq.Group{}
	for _, f := range s.Fields() {
		n, err := parquetNode(f, delta)
		if err != nil {
			return err
		}
		group[f.Name] = n
	}
	schema := pq.NewSchema("event", group)
	// colIndex[i] is the parquet column of Arrow field i.
	colIndex := make([]int, s.NumFields())
	for i, f := range s.Fields() {
		leaf, ok := schema.Lookup(f.Name)
		if !ok {
			return fmt.Errorf("no column %s", f.Name)
		}
		colIndex[i] = leaf.ColumnIndex
	}
	f, bw, err := createBuffered(path)
	if err != nil {
		return err
	}
	w := pq.NewGenericWriter[any](bw, schema,
		pq.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		pq.MaxRowsPerRowGroup(rowGroupRows),
		pq.CreatedBy("ducktail-bench", "0", ""),
	)
	vals := make([]pq.Value, batchRows)
	var inGroup int64
	for _, r := range recs {
		for lo := int64(0); lo < r.NumRows(); {
			n := min(r.NumRows()-lo, rowGroupRows-inGroup)
			cols := w.ColumnWriters()
			for i := range s.NumFields() {
				vals = fillValues(vals[:0], r.Column(i), int(lo), int(lo+n), colIndex[i], s.Field(i).Nullable)
				if _, err := cols[colIndex[i]].WriteRowValues(vals); err != nil {
					return finish(f, bw, err)
				}
			}
			lo += n
			if inGroup += n; inGroup == rowGroupRows {
				if err := w.Flush(); err != nil {
					return finish(f, bw, err)
				}
				inGroup = 0
			}
		}
	}
	return finish(f, bw, w.Close())
}

// fillValues appends the values of a[lo:hi] as parquet.Values of column col.
func fillValues(out []pq.Value, a arrow.Array, lo, hi, col int, nullable bool) []pq.Value {
	def := 0
	if nullable {
		def = 1
	}
	for i := lo; i < hi; i++ {
		if a.IsNull(i) {
			out = append(out, pq.NullValue().Level(0, 0, col))
			continue
		}
		var v pq.Value
		switch a := a.(type) {
		case *array.Int64:
			v = pq.Int64Value(a.Value(i))
		case *array.Timestamp:
			v = pq.Int64Value(int64(a.Value(i)))
		case *array.Uint32:
			v = pq.Int32Value(int32(a.Value(i)))
		case *array.Float64:
			v = pq.DoubleValue(a.Value(i))
		case *array.String:
			off := a.ValueOffsets()
			v = pq.ByteArrayValue(a.ValueBytes()[off[i]-off[0] : off[i+1]-off[0]])
		}
		out = append(out, v.Level(0, def, col))
	}
	return out
}

func verify(path string) error { return verifyN(path, flushRows) }

// verifyN reads path back with pqarrow and checks the row count and the
// sums of _id and value.
func verifyN(path string, rows int64) error {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return err
	}
	defer tbl.Release()
	if tbl.NumRows() != rows {
		return fmt.Errorf("%d rows, want %d", tbl.NumRows(), rows)
	}
	var sumID int64
	var sumValue, wantValue float64
	for i := range int(tbl.NumCols()) {
		col := tbl.Column(i)
		for _, c := range col.Data().Chunks() {
			switch col.Name() {
			case "_id":
				for _, v := range c.(*array.Int64).Int64Values() {
					sumID += v
				}
			case "value":
				for _, v := range c.(*array.Float64).Float64Values() {
					sumValue += v
				}
			}
		}
	}
	for id := range rows {
		wantValue += segmenttest.Value(id)
	}
	if sumID != rows*(rows-1)/2 || math.Abs(sumValue-wantValue) > 1e-6*wantValue {
		return fmt.Errorf("sum(_id) %d sum(value) %v, want %d and %v", sumID, sumValue, rows*(rows-1)/2, wantValue)
	}
	return nil
}
