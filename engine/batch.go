package engine

import (
	"sync"
	"sync/atomic"
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
	Bytes   int64  // memory charged to the budget

	payload arrow.RecordBatch
	stored  *arrow.Schema
	walPos  wal.Pos // just past the batch's WAL record
	chunk   *chunk  // the arena chunk holding the body, or nil

	refs atomic.Int32
	once sync.Once
	full arrow.RecordBatch // payload plus system columns, built on first use
	done func()            // called when the last reference goes
}

func (b *Batch) retain() { b.refs.Add(1) }

func (b *Batch) release() {
	if b.refs.Add(-1) != 0 {
		return
	}
	if b.full != nil {
		b.full.Release()
	}
	b.payload.Release()
	if b.chunk != nil {
		b.chunk.release()
	}
	if b.done != nil {
		b.done()
	}
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

func (b *Batch) build(mem memory.Allocator) arrow.RecordBatch {
	n := int(b.Rows)
	cols := make([]arrow.Array, 0, b.stored.NumFields())

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

	cols = append(cols, constString(b.Event, n))
	cols = append(cols, array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, n))
	if b.Tenant != 0 {
		t := make([]uint32, n)
		for i := range t {
			t[i] = b.Tenant
		}
		cols = append(cols, fixedArray(arrow.PrimitiveTypes.Uint32, n, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t))), 4*n)))
	} else {
		cols = append(cols, array.MakeArrayOfNull(mem, arrow.PrimitiveTypes.Uint32, n))
	}
	for i := 0; i < int(b.payload.NumCols()); i++ {
		c := b.payload.Column(i)
		c.Retain()
		cols = append(cols, c)
	}
	rec := array.NewRecordBatch(b.stored, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
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

func constString(s string, n int) arrow.Array {
	offsets := make([]int32, n+1)
	for i := range offsets {
		offsets[i] = int32(i * len(s))
	}
	values := make([]byte, 0, n*len(s))
	for i := 0; i < n; i++ {
		values = append(values, s...)
	}
	ob := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(offsets))), 4*len(offsets))
	data := array.NewData(arrow.BinaryTypes.String, n,
		[]*memory.Buffer{nil, memory.NewBufferBytes(ob), memory.NewBufferBytes(values)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}
