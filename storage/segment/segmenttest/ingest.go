package segmenttest

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// IngestEvent is the _event of IngestBatches: the content type of Arrow IPC
// ingestion.
const IngestEvent = "application/vnd.apache.arrow.stream"

// IngestSchema returns the schema of IngestBatches' records: DemoSchema with
// _event a dictionary<values=utf8, indices=int32>, as the engine hands
// records to segment.Write.
func IngestSchema() *arrow.Schema {
	fields := DemoSchema().Fields()
	fields[2].Type = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	return arrow.NewSchema(fields, nil)
}

// IngestBatches returns rows rows of the demo topic, ids firstID.., in
// records of batch rows shaped as the engine's flush hands them to
// segment.Write after HTTP Arrow ingestion (one record per POST): one _ts
// per record, _event a one-value dictionary, _sub and _tenant all null, and
// the payload columns (DemoBatches' values) as decoded from IPC. The caller
// releases the records.
func IngestBatches(mem memory.Allocator, firstID, rows, batch int64) []arrow.RecordBatch {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	demo := DemoBatches(mem, firstID, rows, batch)
	defer Release(demo)
	s := IngestSchema()
	out := make([]arrow.RecordBatch, 0, len(demo))
	for _, r := range demo {
		n := int(r.NumRows())
		first := r.Column(0).(*array.Int64).Value(0)
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = TS(first)
		}
		tsArr := fixed(s.Field(1).Type, n, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ts))), 8*n))
		dictVals := array.NewStringBuilder(mem)
		dictVals.Append(IngestEvent)
		dv := dictVals.NewArray()
		dictVals.Release()
		idx := fixed(arrow.PrimitiveTypes.Int32, n, make([]byte, 4*n))
		ev := array.NewDictionaryArray(s.Field(2).Type, idx, dv)
		dv.Release()
		idx.Release()
		sub := array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, n)
		ten := array.MakeArrayOfNull(mem, arrow.PrimitiveTypes.Uint32, n)
		cols := []arrow.Array{r.Column(0), tsArr, ev, sub, ten, r.Column(5), r.Column(6), r.Column(7)}
		out = append(out, array.NewRecordBatch(s, cols, int64(n)))
		tsArr.Release()
		ev.Release()
		sub.Release()
		ten.Release()
	}
	return out
}

func fixed(t arrow.DataType, n int, values []byte) arrow.Array {
	data := array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(values)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}
