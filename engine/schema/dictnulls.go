package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// maskDictionaryNulls returns d with every row whose index points at a null
// dictionary value made null itself, and the dictionary's own validity
// dropped. The rows read the same; Parquet, which cannot hold nulls inside a
// dictionary, can hold the result. Only a validity bitmap is allocated: the
// indices and the dictionary's buffers are shared.
func maskDictionaryNulls(d *array.Dictionary, mem memory.Allocator) arrow.Array {
	data := d.Data()
	off, n := data.Offset(), d.Len()
	dict := d.Dictionary()
	bitmap := memory.NewResizableBuffer(mem)
	bitmap.Resize(int(bitutil.BytesForBits(int64(off + n))))
	bits := bitmap.Bytes()
	nulls := 0
	for i := 0; i < n; i++ {
		valid := d.IsValid(i) && dict.IsValid(d.GetValueIndex(i))
		bitutil.SetBitTo(bits, off+i, valid)
		if !valid {
			nulls++
		}
	}
	dd := dict.Data()
	dictBufs := append([]*memory.Buffer{nil}, dd.Buffers()[1:]...)
	newDict := array.NewData(dd.DataType(), dd.Len(), dictBufs, dd.Children(), 0, dd.Offset())
	out := array.NewData(data.DataType(), n, []*memory.Buffer{bitmap, data.Buffers()[1]}, nil, nulls, off)
	out.SetDictionary(newDict)
	newDict.Release()
	bitmap.Release()
	defer out.Release()
	return array.MakeFromData(out)
}
