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

// rawColumns builds the _content_type (utf8) and _data (binary) columns
// of rows raw events, the logged forms in raws (flags: with a typed flag
// byte after each event). The values are copied into buffers of the exact
// size: two passes over the raw events are cheaper than Arrow builders,
// which grow and zero their buffers as they go. raws were validated when
// they were decoded, so they cannot be malformed here.
func rawColumns(raws [][]byte, flags []bool, rows int) (ct, data arrow.Array) {
	var ev rawEvent
	ctLen, dataLen := 0, 0
	for i, raw := range raws {
		for b := raw; len(b) > 0; {
			rest, ok := ev.next(b, flags[i])
			if !ok {
				break
			}
			b = rest
			ctLen += len(ev.ct)
			dataLen += len(ev.data)
		}
	}
	ctOffsets := make([]int32, rows+1)
	dataOffsets := make([]int32, rows+1)
	ctValues := make([]byte, 0, ctLen)
	dataValues := make([]byte, 0, dataLen)
	row := 0
	for i, raw := range raws {
		for b := raw; len(b) > 0 && row < rows; {
			rest, ok := ev.next(b, flags[i])
			if !ok {
				break
			}
			b = rest
			ctValues = append(ctValues, ev.ct...)
			dataValues = append(dataValues, ev.data...)
			row++
			ctOffsets[row] = int32(len(ctValues))
			dataOffsets[row] = int32(len(dataValues))
		}
	}
	return varBinaryArray(arrow.BinaryTypes.String, rows, ctOffsets, ctValues),
		varBinaryArray(arrow.BinaryTypes.Binary, rows, dataOffsets, dataValues)
}

// varBinaryArray is a utf8 or binary array of n values over offsets and
// values (no copy).
func varBinaryArray(t arrow.DataType, n int, offsets []int32, values []byte) arrow.Array {
	data := array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(int32Bytes(offsets)), memory.NewBufferBytes(values)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// rawPayload builds the payload record (eventsPayload) of a raw batch.
func rawPayload(raw []byte, flags bool, rows int64) arrow.RecordBatch {
	ct, data := rawColumns([][]byte{raw}, []bool{flags}, int(rows))
	defer ct.Release()
	defer data.Release()
	return array.NewRecordBatch(eventsPayload, []arrow.Array{ct, data}, rows)
}
