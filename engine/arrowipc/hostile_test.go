package arrowipc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
)

// located is a message of a test stream with absolute positions, so tests
// can patch its metadata and body in place.
type located struct {
	m       message
	metaOff int // offset of the metadata in the stream
	bodyOff int // offset of the body in the stream
}

func locate(t *testing.T, body []byte) []located {
	t.Helper()
	base := uintptr(unsafe.Pointer(&body[0]))
	f := framer{b: body}
	var out []located
	for {
		m, ok, err := f.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		l := located{m: m, metaOff: int(uintptr(unsafe.Pointer(&m.header.b[0])) - base)}
		l.bodyOff = l.metaOff + len(m.header.b)
		out = append(out, l)
	}
}

// recordBatch returns the RecordBatch table of l (unwrapping a dictionary batch).
func (l located) recordBatch(t *testing.T) fbTable {
	if l.m.headerType == hdrDictionaryBatch {
		rb, _, err := l.m.header.table(1)
		if err != nil {
			t.Fatal(err)
		}
		return rb
	}
	return l.m.header
}

func put64(b []byte, at int, v int64) { binary.LittleEndian.PutUint64(b[at:], uint64(v)) }

// bufferEntry returns the absolute position of Buffer i's (offset, length).
func (l located) bufferEntry(t *testing.T, i int) int {
	start, n, err := l.recordBatch(t).vector(2, 16)
	if err != nil || i >= n {
		t.Fatalf("buffer %d of %d: %v", i, n, err)
	}
	return l.metaOff + start + 16*i
}

// bufferData returns the absolute position of buffer i's bytes.
func (l located) bufferData(t *testing.T, body []byte, i int) int {
	e := l.bufferEntry(t, i)
	return l.bodyOff + int(binary.LittleEndian.Uint64(body[e:]))
}

func (l located) nodeEntry(t *testing.T, i int) int {
	start, n, err := l.recordBatch(t).vector(1, 16)
	if err != nil || i >= n {
		t.Fatalf("node %d of %d: %v", i, n, err)
	}
	return l.metaOff + start + 16*i
}

func (l located) lengthField(t *testing.T) int {
	p, ok, err := l.recordBatch(t).field(0, 8)
	if err != nil || !ok {
		t.Fatalf("no length field: %v", err)
	}
	return l.metaOff + p - 0
}

// dictStream is a stream with cols dictionary-encoded utf8 columns (ids 0,
// 1, ...): messages schema, one dictionary batch per column, one batch.
func dictStream(t *testing.T, cols int) []byte {
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	fields := make([]arrow.Field, cols)
	arrs := make([]arrow.Array, cols)
	for c := range fields {
		fields[c] = arrow.Field{Name: fmt.Sprintf("kind%d", c), Type: dt}
		b := array.NewDictionaryBuilder(memory.DefaultAllocator, dt).(*array.BinaryDictionaryBuilder)
		for _, s := range []string{"click", "view", "click", "buy", "view"} {
			if err := b.AppendString(s); err != nil {
				t.Fatal(err)
			}
		}
		arrs[c] = b.NewArray()
		defer arrs[c].Release()
		b.Release()
	}
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(schema, arrs, 5)
	defer rec.Release()
	return writeStream(t, schema, []arrow.RecordBatch{rec})
}

func TestHostile(t *testing.T) {
	f := func(name string, build func(t *testing.T) []byte, lim Limits, kind error, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			body := build(t)
			s, err := Decode(body, nil, lim)
			if err == nil {
				s.Release()
				t.Fatalf("decoded a hostile stream (%d rows)", s.Rows)
			}
			if !errors.Is(err, kind) {
				t.Fatalf("err = %v, want kind %v", err, kind)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %q, want it to mention %q", err, want)
			}
		})
	}
	sample := func(t *testing.T) ([]byte, []located) {
		body := sampleStream(t, 1, 10)
		return body, locate(t, body)
	}
	f("empty body", func(t *testing.T) []byte { return nil }, Limits{}, base.ErrInvalid, "no schema")
	f("huge metadata length", func(t *testing.T) []byte {
		return []byte{0xff, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0x7f, 1, 2, 3, 4}
	}, Limits{}, base.ErrInvalid, "metadata length 2147483632 exceeds the 4 bytes left")
	f("negative metadata length", func(t *testing.T) []byte {
		return []byte{0xff, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0xff, 1, 2, 3, 4}
	}, Limits{}, base.ErrInvalid, "metadata length -16")
	f("huge body length", func(t *testing.T) []byte {
		body, ms := sample(t)
		p, _, _ := ms[1].m.header.b, 0, 0
		root, _ := fbRoot(p)
		at, _, _ := root.field(3, 8)
		put64(body, ms[1].metaOff+at, 1<<30)
		return body
	}, Limits{}, base.ErrInvalid, "body length 1073741824 exceeds the")
	f("buffer offset past the body", func(t *testing.T) []byte {
		body, ms := sample(t)
		put64(body, ms[1].bufferEntry(t, 1), 1<<20)
		return body
	}, Limits{}, base.ErrInvalid, "is outside the")
	f("buffer length past the body", func(t *testing.T) []byte {
		body, ms := sample(t)
		put64(body, ms[1].bufferEntry(t, 1)+8, 1<<62)
		return body
	}, Limits{}, base.ErrInvalid, "is outside the")
	f("string offsets past the data", func(t *testing.T) []byte {
		body, ms := sample(t)
		offs := ms[1].bufferData(t, body, 3) // name: validity 2, offsets 3, data 4
		binary.LittleEndian.PutUint32(body[offs+4*10:], 1<<20)
		return body
	}, Limits{}, base.ErrInvalid, `column "name": last offset 1048576 is past the end`)
	f("string offsets decreasing", func(t *testing.T) []byte {
		body, ms := sample(t)
		offs := ms[1].bufferData(t, body, 3)
		binary.LittleEndian.PutUint32(body[offs+4*5:], 0)
		return body
	}, Limits{}, base.ErrInvalid, "is below the previous offset")
	f("invalid utf8", func(t *testing.T) []byte {
		body, ms := sample(t)
		data := ms[1].bufferData(t, body, 4)
		body[data] = 0xff
		return body
	}, Limits{}, base.ErrInvalid, "not valid UTF-8")
	f("null count above length", func(t *testing.T) []byte {
		body, ms := sample(t)
		put64(body, ms[1].nodeEntry(t, 1)+8, 11)
		return body
	}, Limits{}, base.ErrInvalid, "null count 11")
	f("null count disagrees with bitmap", func(t *testing.T) []byte {
		body, ms := sample(t)
		put64(body, ms[1].nodeEntry(t, 1)+8, 3)
		return body
	}, Limits{}, base.ErrInvalid, "validity bitmap has 1 nulls")
	long := func(t *testing.T) []byte {
		body, ms := sample(t)
		put64(body, ms[1].lengthField(t), 1<<40)
		for i := 0; i < 3; i++ {
			put64(body, ms[1].nodeEntry(t, i), 1<<40)
		}
		return body
	}
	f("length 2^40, default limits", long, Limits{}, base.ErrTooLarge, "Limits.MaxRows")
	f("length 2^40, MaxRows allows it", long, Limits{MaxRows: 1 << 41}, base.ErrInvalid, "values buffer has 80 bytes, need 8796093022208")
	f("column length differs from batch", func(t *testing.T) []byte {
		body, ms := sample(t)
		put64(body, ms[1].nodeEntry(t, 2), 9)
		return body
	}, Limits{}, base.ErrInvalid, `column "value" has 9 rows, the batch declares 10`)
	f("dictionary index out of range", func(t *testing.T) []byte {
		body := dictStream(t, 1)
		ms := locate(t, body)
		idx := ms[2].bufferData(t, body, 1)
		binary.LittleEndian.PutUint32(body[idx+4*2:], 7)
		return body
	}, Limits{}, base.ErrInvalid, "dictionary index 7 at 2 is outside the 3-entry dictionary")
	f("negative dictionary index", func(t *testing.T) []byte {
		body := dictStream(t, 1)
		ms := locate(t, body)
		idx := ms[2].bufferData(t, body, 1)
		binary.LittleEndian.PutUint32(body[idx:], 0xffffffff)
		return body
	}, Limits{}, base.ErrInvalid, "dictionary index -1")
	f("dictionary id unknown", func(t *testing.T) []byte {
		body := dictStream(t, 2)
		ms := locate(t, body)
		at, _, _ := ms[2].m.header.field(0, 8)
		put64(body, ms[2].metaOff+at, 99)
		return body
	}, Limits{}, base.ErrInvalid, "dictionary id 99")
	f("batch before schema", func(t *testing.T) []byte {
		body, ms := sample(t)
		return body[ms[1].metaOff-8:]
	}, Limits{}, base.ErrInvalid, "must start with its schema")
	f("second schema", func(t *testing.T) []byte {
		body, ms := sample(t)
		return append(body[:ms[1].metaOff-8:ms[1].metaOff-8], body...)
	}, Limits{}, base.ErrInvalid, "second schema")
	f("trailing bytes after EOS", func(t *testing.T) []byte {
		body, _ := sample(t)
		return append(body, 0, 0, 0, 0)
	}, Limits{}, base.ErrInvalid, "follow the end-of-stream marker")
	f("too many batches", func(t *testing.T) []byte { return sampleStream(t, 3, 5) },
		Limits{MaxBatches: 2}, base.ErrTooLarge, "Limits.MaxBatches")
	f("too many rows", func(t *testing.T) []byte { return sampleStream(t, 3, 5) },
		Limits{MaxRows: 14}, base.ErrTooLarge, "Limits.MaxRows")
}

// TestPrefixes decodes every prefix of a small valid stream: each either
// decodes (a prefix ending on a message boundary is a shorter stream) or
// fails with ErrInvalid; none panics.
func TestPrefixes(t *testing.T) {
	for _, body := range [][]byte{sampleStream(t, 2, 3), dictStream(t, 1)} {
		ok := 0
		for n := 0; n <= len(body); n++ {
			prefix := append([]byte(nil), body[:n]...)
			s, err := Decode(prefix, nil, Limits{})
			if err != nil {
				if !errors.Is(err, base.ErrInvalid) {
					t.Fatalf("prefix %d: %v", n, err)
				}
				if strings.Contains(err.Error(), errPanicPrefix) {
					t.Fatalf("prefix %d: panic: %v", n, err)
				}
				continue
			}
			ok++
			s.Release()
		}
		if ok < 2 {
			t.Fatalf("only %d prefixes decoded", ok)
		}
	}
}
