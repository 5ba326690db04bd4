package segment

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Why this file exists: pqarrow dictionary-encodes a utf8 column through a
// hash memo table whose lookup allocates once per row (a closure that
// escapes), which made a flush of the demo schema spend most of its
// allocations, and much of its GC time, there. Write therefore hands pqarrow
// top-level utf8 columns as dictionary arrays it builds itself with a Go map
// (no allocation per row), one dictionary per row group, and stores the
// logical schema (utf8, not dictionary) as ARROW:schema so readers see the
// types that were written. Both encode to the same Parquet column: a
// BYTE_ARRAY String leaf, dictionary pages plus RLE indices.

// maxDictValues and maxDictBytes bound a row group's dictionary (the bytes
// as pqarrow's default dictionary page limit); a column with more distinct
// values in a row group is written as plain strings, which pqarrow hashes
// itself and falls back to plain encoding as usual.
const (
	maxDictValues = 1 << 14
	maxDictBytes  = 1 << 20
)

// Markers in dictBuilder.remap: a source dictionary value not yet mapped,
// and a null one.
const (
	unmapped  = int32(-2)
	nullValue = int32(-1)
)

// dictType is the physical type of a pre-encoded utf8 column.
var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// physicalSchema returns s with each top-level utf8 field made a dictionary,
// and whether any was.
func physicalSchema(s *arrow.Schema) (*arrow.Schema, []bool) {
	fields := s.Fields()
	dict := make([]bool, len(fields))
	for i, f := range fields {
		if f.Type.ID() == arrow.STRING {
			fields[i].Type = dictType
			dict[i] = true
		}
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md), dict
}

// serializeSchema encodes s as pqarrow's ARROW:schema value: base64 of an
// IPC stream holding only the schema.
func serializeSchema(s *arrow.Schema, mem memory.Allocator) (string, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(s), ipc.WithAllocator(mem))
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("segment: cannot serialise schema: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// dictBuilder builds dictionary arrays from text chunks: plain utf8 arrays,
// or dictionary<values=utf8, indices=int32> arrays (the form in which the
// engine hands over columns that are constant per batch, such as _event).
// Its map and scratch space are reused between row groups.
type dictBuilder struct {
	mem   memory.Allocator
	seen  map[string]int32
	cache valueCache
	remap []int32
}

// build returns rows [off, off+n) of the text chunks as one dictionary
// array, or nil if they hold more than maxDictValues distinct values.
func (d *dictBuilder) build(chunks []arrow.Array, off, n int64) *array.Dictionary {
	if d.seen == nil {
		d.seen = make(map[string]int32)
	}
	clear(d.seen)
	d.cache.reset()
	defer d.cache.reset()
	idxBuf := memory.NewResizableBuffer(d.mem)
	idxBuf.Resize(int(n) * arrow.Int32SizeBytes)
	idx := arrow.Int32Traits.CastFromBytes(idxBuf.Bytes())
	var valid *memory.Buffer
	nulls := 0
	dict := array.NewStringBuilder(d.mem)
	defer dict.Release()
	dictBytes := 0
	full := false
	// code returns v's code in the row group's dictionary, adding it.
	code := func(v []byte) int32 {
		k, ok := d.seen[string(v)]
		if !ok {
			if dictBytes += len(v); len(d.seen) >= maxDictValues || dictBytes > maxDictBytes {
				full = true
				return 0
			}
			k = int32(len(d.seen))
			d.seen[string(v)] = k
			dict.BinaryBuilder.Append(v)
		}
		return k
	}
	// setNulls makes rows [pos, pos+k) of the output null.
	setNulls := func(pos, k int64) {
		if valid == nil {
			valid = memory.NewResizableBuffer(d.mem)
			valid.Resize(int(bitutil.BytesForBits(n)))
			bitutil.SetBitsTo(valid.Bytes(), 0, n, true)
		}
		bitutil.SetBitsTo(valid.Bytes(), pos, k, false)
		clear(idx[pos : pos+k])
		nulls += int(k)
	}
	setNull := func(pos int64) { setNulls(pos, 1) }
	fail := func() *array.Dictionary {
		idxBuf.Release()
		if valid != nil {
			valid.Release()
		}
		return nil
	}
	pos := int64(0) // row of the output
	for _, c := range chunks {
		if pos == n {
			break
		}
		lo := int64(0)
		if off > 0 {
			if off >= int64(c.Len()) {
				off -= int64(c.Len())
				continue
			}
			lo, off = off, 0
		}
		hi := min(int64(c.Len()), lo+n-pos)
		if c.NullN() == c.Len() { // _sub of a plain stream, say
			setNulls(pos, hi-lo)
			pos += hi - lo
			continue
		}
		switch a := c.(type) {
		case *array.Dictionary:
			// Map each dictionary value once, on its first use, then the
			// rows by index. Only values the rows use enter the row
			// group's dictionary: the writer takes the column's min/max
			// statistics from it (sink.go).
			dv := a.Dictionary().(*array.String)
			d.remap = d.remap[:0]
			for range dv.Len() {
				d.remap = append(d.remap, unmapped)
			}
			ix := a.Indices().(*array.Int32).Int32Values()
			for i := lo; i < hi; i, pos = i+1, pos+1 {
				if a.IsNull(int(i)) {
					setNull(pos)
					continue
				}
				j := ix[i]
				k := d.remap[j]
				if k == unmapped {
					k = nullValue
					if dv.IsValid(int(j)) {
						k = code([]byte(dv.Value(int(j))))
						if full {
							return fail()
						}
					}
					d.remap[j] = k
				}
				if k == nullValue {
					setNull(pos)
					continue
				}
				idx[pos] = k
			}
		case *array.String:
			offsets := a.ValueOffsets()
			data := a.ValueBytes()
			base := offsets[0]
			for i := lo; i < hi; i, pos = i+1, pos+1 {
				if a.IsNull(int(i)) {
					setNull(pos)
					continue
				}
				v := data[offsets[i]-base : offsets[i+1]-base]
				sa, sb := slotsOf(v)
				if k, ok := d.cache.get(sa, sb, v); ok {
					idx[pos] = k
					continue
				}
				k := code(v)
				if full {
					return fail()
				}
				idx[pos] = k
				d.cache.put(sa, sb, v, k)
			}
		}
	}
	dictArr := dict.NewArray()
	defer dictArr.Release()
	indices := array.NewData(arrow.PrimitiveTypes.Int32, int(n), []*memory.Buffer{valid, idxBuf}, nil, nulls, 0)
	defer indices.Release()
	idxBuf.Release()
	if valid != nil {
		valid.Release()
	}
	ia := array.MakeFromData(indices)
	defer ia.Release()
	return array.NewDictionaryArray(dictType, ia, dictArr)
}

// plainText returns the chunks as plain utf8 arrays, decoding dictionary
// chunks, for a row group whose dictionary would be too large. The caller
// releases the result.
func plainText(chunks []arrow.Array, mem memory.Allocator) []arrow.Array {
	out := make([]arrow.Array, len(chunks))
	for i, c := range chunks {
		a, ok := c.(*array.Dictionary)
		if !ok {
			c.Retain()
			out[i] = c
			continue
		}
		dv := a.Dictionary().(*array.String)
		b := array.NewStringBuilder(mem)
		for j := 0; j < a.Len(); j++ {
			if a.IsNull(j) || dv.IsNull(a.GetValueIndex(j)) {
				b.AppendNull()
			} else {
				b.Append(dv.Value(a.GetValueIndex(j)))
			}
		}
		out[i] = b.NewArray()
		b.Release()
	}
	return out
}
