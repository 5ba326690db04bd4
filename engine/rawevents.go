package engine

import (
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A run of untyped events is buffered in the form it was logged in (a
// recEvent or recTypedEvent body, in the arena) rather than as Arrow
// arrays: building two one-row arrays, their buffers, ArrayData and a
// record for every event cost about a dozen allocations per request on the
// hottest path (one small event per POST). The Arrow payload is built
// from the raw form when something needs it: a reader (Batch.Record), or a
// flush, which builds the columns of a whole run of such batches at once
// (mergeBatches).

// rawEvent is one event of a logged events body.
type rawEvent struct {
	ts      uint64
	typ, ct []byte
	data    []byte
	flag    byte // the typed flag, when the body has flags; else 0
}

// next decodes the event at the start of b (with a typed flag after it
// when flags) and returns the rest of b, or ok false if b is malformed.
func (ev *rawEvent) next(b []byte, flags bool) (rest []byte, ok bool) {
	ts, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, false
	}
	ev.ts, b = ts, b[k:]
	if ev.typ, b, ok = uvarintBytes(b); !ok {
		return nil, false
	}
	if ev.ct, b, ok = uvarintBytes(b); !ok {
		return nil, false
	}
	if ev.data, b, ok = uvarintBytes(b); !ok {
		return nil, false
	}
	ev.flag = 0
	if flags {
		if len(b) == 0 {
			return nil, false
		}
		ev.flag, b = b[0], b[1:]
	}
	return b, true
}

// uvarintBytes splits a uvarint length and that many bytes off b.
func uvarintBytes(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// rawBuilders build the untyped payload columns of raw events.
type rawBuilders struct {
	ct   *array.StringBuilder
	data *array.BinaryBuilder
}

func newRawBuilders(mem memory.Allocator) *rawBuilders {
	return &rawBuilders{ct: array.NewStringBuilder(mem), data: array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)}
}

// add appends the content type and data of every event of raw. raw was
// validated when it was decoded, so it cannot be malformed here.
func (r *rawBuilders) add(raw []byte, flags bool) {
	var ev rawEvent
	for b := raw; len(b) > 0; {
		rest, ok := ev.next(b, flags)
		if !ok {
			return
		}
		b = rest
		r.ct.BinaryBuilder.Append(ev.ct)
		r.data.Append(ev.data)
	}
}

// reserve makes room for n more rows of about size bytes in all.
func (r *rawBuilders) reserve(n, size int) {
	r.ct.Reserve(n)
	r.data.Reserve(n)
	r.data.ReserveData(size)
}

func (r *rawBuilders) release() {
	r.ct.Release()
	r.data.Release()
}

// rawPayload builds the payload record (eventsPayload) of a raw batch.
func rawPayload(raw []byte, flags bool, rows int64) arrow.RecordBatch {
	r := newRawBuilders(memory.DefaultAllocator)
	defer r.release()
	r.reserve(int(rows), len(raw))
	r.add(raw, flags)
	ct, data := r.ct.NewArray(), r.data.NewArray()
	defer ct.Release()
	defer data.Release()
	return array.NewRecordBatch(eventsPayload, []arrow.Array{ct, data}, rows)
}
