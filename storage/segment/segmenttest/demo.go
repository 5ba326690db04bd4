// Package segmenttest makes record batches of the stored schema for tests
// and benchmarks of storage/segment and bench/parquet: the demo topic's
// fields (timestamp int64, event utf8, value float64) after the system
// columns, with realistic data.
//
// It imports arrow-go, base and storage/segment. It has no state.
package segmenttest

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/storage/segment"
)

// BaseTS is the _ts of id 0 in the demo data, unix milliseconds
// (2026-11-23T00:00:00Z).
const BaseTS = int64(1795392000000)

// DemoSchema returns the stored schema of the demo topic.
func DemoSchema() *arrow.Schema {
	fields := append(segment.SystemFields(),
		arrow.Field{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "event", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	)
	return arrow.NewSchema(fields, nil)
}

// TS returns the demo _ts of id: BaseTS + id/3, so three rows share each
// millisecond.
func TS(id int64) int64 { return BaseTS + id/3 }

// Value returns the demo value column of id.
func Value(id int64) float64 { return float64(id%1000) * 0.5 }

// DemoBatches returns rows rows of DemoSchema (with ~20 distinct event names), ids firstID.., in records of
// batch rows. _sub is null, _tenant is 7 on even ids and null on odd ones.
// The caller releases the records.
func DemoBatches(mem memory.Allocator, firstID, rows, batch int64) []arrow.RecordBatch {
	events := [...]string{
		"page_view", "click", "scroll", "signup", "login", "logout", "purchase",
		"add_to_cart", "remove_from_cart", "search", "share", "like", "comment",
		"video_play", "video_pause", "error", "form_submit", "download",
		"notification_open", "session_start",
	}
	return build(mem, DemoSchema(), firstID, rows, batch, func(b *array.RecordBuilder, id int64) {
		b.Field(2).(*array.StringBuilder).Append("application/vnd.apache.arrow.stream")
		if tens := b.Field(4).(*array.Uint32Builder); id%2 == 0 {
			tens.Append(7)
		} else {
			tens.AppendNull()
		}
		b.Field(5).(*array.Int64Builder).Append(TS(id) - 250 + id%97)
		b.Field(6).(*array.StringBuilder).Append(events[(id*7+id/13)%int64(len(events))])
		b.Field(7).(*array.Float64Builder).Append(Value(id))
	})
}

// build returns rows rows of s (system columns first), ids firstID.., in
// records of batch rows. It appends _id, _ts (TS) and a null _sub; row
// appends the rest of row id: _event, _tenant and the payload.
func build(mem memory.Allocator, s *arrow.Schema, firstID, rows, batch int64, row func(b *array.RecordBuilder, id int64)) []arrow.RecordBatch {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	var out []arrow.RecordBatch
	for lo := firstID; lo < firstID+rows; lo += batch {
		n := min(batch, firstID+rows-lo)
		b.Reserve(int(n))
		for id := lo; id < lo+n; id++ {
			b.Field(0).(*array.Int64Builder).Append(id)
			b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(TS(id)))
			b.Field(3).(*array.StringBuilder).AppendNull()
			row(b, id)
		}
		out = append(out, b.NewRecordBatch())
	}
	return out
}

// Release releases every record of recs.
func Release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// Size returns the Arrow in-memory size of recs in bytes (the sum of their
// buffers' lengths), the figure benchmarks pass to b.SetBytes.
func Size(recs []arrow.RecordBatch) int64 {
	var n int64
	for _, r := range recs {
		for _, c := range r.Columns() {
			n += dataSize(c.Data())
		}
	}
	return n
}

func dataSize(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	return n
}

// DemoPayload returns the demo topic's own fields: DemoSchema without the
// system columns.
func DemoPayload() *arrow.Schema {
	return arrow.NewSchema(DemoSchema().Fields()[segment.NumSystemFields:], nil)
}

// DemoIPC returns an Arrow IPC stream of rows rows of DemoPayload, the
// values DemoBatches gives ids first.., as a client would send them.
func DemoIPC(first, rows int64) ([]byte, error) {
	recs := DemoBatches(memory.DefaultAllocator, first, rows, rows)
	defer Release(recs)
	payload := DemoPayload()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(payload))
	for _, r := range recs {
		p := array.NewRecordBatch(payload, r.Columns()[segment.NumSystemFields:], r.NumRows())
		err := w.Write(p)
		p.Release()
		if err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
