package encode

import (
	"io"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// demoRecord builds n rows of the demo topic's stored schema.
func demoRecord(n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, topicSchema())
	defer b.Release()
	events := []string{"click", "view", "purchase", "scroll"}
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(1650661388844 + int64(i)))
		b.Field(2).(*array.StringBuilder).Append(events[i%4])
		b.Field(3).AppendNull()
		b.Field(4).AppendNull()
		b.Field(5).(*array.Int64Builder).Append(1650661388000 + int64(i))
		b.Field(6).(*array.StringBuilder).Append(events[i%4] + "-" + strconv.Itoa(i%100))
		b.Field(7).(*array.Float64Builder).Append(float64(i) * 0.37)
	}
	return b.NewRecordBatch()
}

// countWriter counts bytes written.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func benchEvents(b *testing.B, f Format) {
	rec := demoRecord(10_000)
	defer rec.Release()
	s := rec.Schema()
	// One warm-up to size the output.
	var cw countWriter
	ew, err := NewEventWriter(&cw, f, s)
	if err != nil {
		b.Fatal(err)
	}
	if err := ew.Write(rec); err != nil {
		b.Fatal(err)
	}
	if err := ew.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(cw.n)
	b.ReportAllocs()
	// One writer reused per op would hide the per-response cost: make one
	// per op, as a request does.
	for b.Loop() {
		ew, err := NewEventWriter(io.Discard, f, s)
		if err != nil {
			b.Fatal(err)
		}
		if err := ew.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := ew.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventsJSON writes 10k demo-topic rows as a JSON array; SetBytes
// is the output size, so MB/s is output throughput.
func BenchmarkEventsJSON(b *testing.B)   { benchEvents(b, JSON) }
func BenchmarkEventsNDJSON(b *testing.B) { benchEvents(b, NDJSON) }
func BenchmarkEventsCSV(b *testing.B)    { benchEvents(b, CSV) }

// BenchmarkRowsJSON writes the same 10k rows as SQL rows.
func BenchmarkRowsJSON(b *testing.B) {
	rec := demoRecord(10_000)
	defer rec.Release()
	var cw countWriter
	rw, _ := NewRowWriter(&cw, JSON, rec.Schema())
	_ = rw.Write(rec)
	_ = rw.Close()
	b.SetBytes(cw.n)
	b.ReportAllocs()
	for b.Loop() {
		rw, err := NewRowWriter(io.Discard, JSON, rec.Schema())
		if err != nil {
			b.Fatal(err)
		}
		if err := rw.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := rw.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
