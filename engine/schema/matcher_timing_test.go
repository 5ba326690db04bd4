package schema

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkConform reshapes a 3-column batch (int64, utf8, float64) sent in
// another field order: the hot path of Arrow ingestion.
func BenchmarkConform(b *testing.B) {
	mem := memory.NewGoAllocator()
	m := NewMatcher(topicEvents(b))
	in := batch(b, []string{"value", "event", "timestamp"},
		column(b, mem, "float64", `[1.5, 2.5, 3.5, 4.5]`),
		column(b, mem, "utf8", `["a", null, "c", "d"]`),
		column(b, mem, "int64", `[10, 20, 30, 40]`))
	defer in.Release()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := m.Conform(in, mem)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
}

// BenchmarkConformNewSchema is BenchmarkConform with a distinct but equal
// *arrow.Schema per batch, as when every request has its own IPC reader:
// the plan is found by the schema's hash instead of its pointer.
func BenchmarkConformNewSchema(b *testing.B) {
	mem := memory.NewGoAllocator()
	m := NewMatcher(topicEvents(b))
	in := batch(b, []string{"value", "event", "timestamp"},
		column(b, mem, "float64", `[1.5, 2.5, 3.5, 4.5]`),
		column(b, mem, "utf8", `["a", null, "c", "d"]`),
		column(b, mem, "int64", `[10, 20, 30, 40]`))
	defer in.Release()
	recs := make([]arrow.RecordBatch, 256)
	for i := range recs {
		s := arrow.NewSchema(in.Schema().Fields(), nil)
		recs[i] = array.NewRecordBatch(s, in.Columns(), in.NumRows())
		defer recs[i].Release()
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		out, err := m.Conform(recs[i%len(recs)], mem)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
		i++
	}
}
