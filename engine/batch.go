package engine

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/engine/wal"
)

// Batch is a run of consecutive events of one stream, as appended: the
// payload columns (conformed to the stream's schema, possibly pointing into
// the request body held in an arena chunk) and the values of the system
// columns, which are the same for every row of the batch except _id.
//
// A Batch is immutable once appended. It is reference counted: the stream's
// buffer holds one reference, every Snapshot that includes it another.
type Batch struct {
	FirstID int64
	Rows    int64
	TS      int64  // _ts of every row, ms
	Event   string // _event of every row
	Tenant  uint32 // _tenant of every row; 0 means null
	Sub     string // _sub of every row: the substream's argument; "" means null
	Bytes   int64  // memory charged to the budget

	arrived time.Time // when it was appended (or replayed): flush.max_age counts from it
	payload arrow.RecordBatch
	stored  *arrow.Schema
	flushed *arrow.Schema // stored in flushRecord's form
	walPos  wal.Pos       // just past the batch's WAL record
	chunk   *chunk        // the arena chunk holding the body, or nil

	// raw, for a run of untyped events, is their logged form
	// (rawevents.go); payload is then built from it on first use
	// (payloadRecord).
	raw         []byte
	flags       bool // raw has a typed flag byte after each event
	payloadOnce sync.Once

	refs   atomic.Int32
	once   sync.Once
	full   arrow.RecordBatch // payload plus system columns, built on first use
	budget *atomic.Int64     // the engine's buffered bytes: Bytes go back to it when the last reference goes
}

func (b *Batch) retain() { b.refs.Add(1) }

func (b *Batch) release() {
	if b.refs.Add(-1) != 0 {
		return
	}
	if b.full != nil {
		b.full.Release()
	}
	if b.payload != nil {
		b.payload.Release()
	}
	if b.chunk != nil {
		b.chunk.release()
	}
	if b.budget != nil {
		b.budget.Add(-b.Bytes)
	}
}

// payloadRecord returns the batch's payload columns, building them from
// the raw events on first use. The batch keeps the reference.
func (b *Batch) payloadRecord() arrow.RecordBatch {
	if b.raw == nil {
		return b.payload
	}
	b.payloadOnce.Do(func() { b.payload = rawPayload(b.raw, b.flags, b.Rows) })
	return b.payload
}

// LastID is the id of the batch's last row.
func (b *Batch) LastID() int64 { return b.FirstID + b.Rows - 1 }

// Record returns the batch's rows with the stored schema: the system columns
// built from the batch's values, then the payload. The record is built once
// and lives as long as the batch. The caller must not Release it, nor use it
// after releasing the Snapshot it came from: its payload may point into an
// arena chunk that is reused once the batch is gone.
func (b *Batch) Record() arrow.RecordBatch {
	b.once.Do(func() { b.full = b.build(memory.DefaultAllocator) })
	return b.full
}

// flushRecord returns the batch's rows for segment.Write: the stored columns,
// except that _event, the same in every row, is a one-entry dictionary
// rather than a string per row (the writer dictionary-encodes text anyway).
// The caller releases it.
func (b *Batch) flushRecord(flushSchema *arrow.Schema) arrow.RecordBatch {
	return b.assemble(flushSchema, memory.DefaultAllocator, true)
}

func (b *Batch) build(mem memory.Allocator) arrow.RecordBatch {
	return b.assemble(b.stored, mem, false)
}

// flushSchemaOf returns stored with _event as dictionary<values=utf8,
// indices=int32>, the schema of flushRecord's records.
func flushSchemaOf(stored *arrow.Schema) *arrow.Schema {
	fields := stored.Fields()
	fields[2].Type = eventDictType
	md := stored.Metadata()
	return arrow.NewSchema(fields, &md)
}

var eventDictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

func (b *Batch) assemble(s *arrow.Schema, mem memory.Allocator, eventDict bool) arrow.RecordBatch {
	n := int(b.Rows)
	cols := make([]arrow.Array, 0, s.NumFields())

	ids := make([]int64, n)
	for i := range ids {
		ids[i] = b.FirstID + int64(i)
	}
	cols = append(cols, fixedArray(arrow.PrimitiveTypes.Int64, n, int64Bytes(ids)))

	ts := make([]int64, n)
	for i := range ts {
		ts[i] = b.TS
	}
	cols = append(cols, fixedArray(b.stored.Field(1).Type, n, int64Bytes(ts)))

	if eventDict {
		cols = append(cols, constDictString(b.Event, n))
	} else {
		cols = append(cols, constString(b.Event, n))
	}
	if b.Sub != "" {
		cols = append(cols, constString(b.Sub, n))
	} else {
		cols = append(cols, array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, n))
	}
	if b.Tenant != 0 {
		t := make([]uint32, n)
		for i := range t {
			t[i] = b.Tenant
		}
		cols = append(cols, fixedArray(arrow.PrimitiveTypes.Uint32, n, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t))), 4*n)))
	} else {
		cols = append(cols, array.MakeArrayOfNull(mem, arrow.PrimitiveTypes.Uint32, n))
	}
	payload := b.payloadRecord()
	for i := 0; i < int(payload.NumCols()); i++ {
		c := payload.Column(i)
		c.Retain()
		cols = append(cols, c)
	}
	rec := array.NewRecordBatch(s, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func int32Bytes(v []int32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
}

func int64Bytes(v []int64) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
}

func fixedArray(t arrow.DataType, n int, values []byte) arrow.Array {
	data := array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(values)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// constDictString returns n rows of s as a dictionary array: one value,
// every index 0.
func constDictString(s string, n int) arrow.Array {
	dict := constString(s, 1)
	defer dict.Release()
	indices := fixedArray(arrow.PrimitiveTypes.Int32, n, make([]byte, 4*n))
	defer indices.Release()
	return array.NewDictionaryArray(eventDictType, indices, dict)
}

func constString(s string, n int) arrow.Array {
	offsets := make([]int32, n+1)
	for i := range offsets {
		offsets[i] = int32(i * len(s))
	}
	values := bytes.Repeat([]byte(s), n)
	ob := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(offsets))), 4*len(offsets))
	data := array.NewData(arrow.BinaryTypes.String, n,
		[]*memory.Buffer{nil, memory.NewBufferBytes(ob), memory.NewBufferBytes(values)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}
