package arrowipc

import (
	"encoding/binary"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Body compression codecs (Message.fbs, CompressionType).
const (
	codecNone = -1
	codecLZ4  = 0
	codecZSTD = 1
)

// batchSource is the verified RecordBatch table of one message and the
// message body, consumed in schema order as arrow-go's loader does.
type batchSource struct {
	d       *decoder
	length  int64
	meta    []byte
	nodes   int // start of the FieldNode structs (16 bytes each)
	nNodes  int
	bufs    int // start of the Buffer structs (16 bytes each)
	nBufs   int
	vars    int // start of variadicBufferCounts (int64 each)
	nVars   int
	codec   int
	version int16
	body    []byte

	inode, ibuf, ivar int
}

// newBatchSource verifies a RecordBatch table.
func newBatchSource(d *decoder, rb fbTable, version int16, body []byte) (*batchSource, error) {
	if err := rb.checkScalars(8); err != nil {
		return nil, err
	}
	s := &batchSource{d: d, meta: rb.b, version: version, body: body, codec: codecNone}
	var err error
	if s.length, err = rb.i64(0, 0); err != nil {
		return nil, err
	}
	if s.length < 0 {
		return nil, errorf("batch length %d is negative", s.length)
	}
	if s.nodes, s.nNodes, err = rb.vector(1, 16); err != nil {
		return nil, err
	}
	if s.bufs, s.nBufs, err = rb.vector(2, 16); err != nil {
		return nil, err
	}
	comp, ok, err := rb.table(3)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := comp.checkScalars(1, 1); err != nil {
			return nil, err
		}
		c, _ := comp.u8(0, 0)
		method, _ := comp.u8(1, 0)
		if method != 0 {
			return nil, errorf("body compression method %d is not supported", method)
		}
		switch c {
		case codecLZ4, codecZSTD:
			s.codec = int(c)
		default:
			return nil, errorf("compression codec %d is not supported", c)
		}
	}
	if s.vars, s.nVars, err = rb.vector(4, 8); err != nil {
		return nil, err
	}
	return s, nil
}

type fieldNode struct{ length, nulls int64 }

func (s *batchSource) node() (fieldNode, error) {
	if s.inode >= s.nNodes {
		return fieldNode{}, errorf("batch has %d field nodes, the schema needs more", s.nNodes)
	}
	p := s.nodes + 16*s.inode
	s.inode++
	n := fieldNode{
		length: int64(binary.LittleEndian.Uint64(s.meta[p:])),
		nulls:  int64(binary.LittleEndian.Uint64(s.meta[p+8:])),
	}
	if n.length < 0 || n.nulls < 0 || n.nulls > n.length {
		return fieldNode{}, errorf("field node %d has length %d and null count %d", s.inode-1, n.length, n.nulls)
	}
	if n.length > s.d.lim.MaxRows {
		return fieldNode{}, tooLarge("field node %d has length %d, more than Limits.MaxRows (%d)",
			s.inode-1, n.length, s.d.lim.MaxRows)
	}
	return n, nil
}

func (s *batchSource) skipBuffer() { s.ibuf++ }

// buffer returns the next buffer: a slice of the body (zero copy), or a
// decompressed or realigned copy charged to the decompression allowance.
func (s *batchSource) buffer() (*memory.Buffer, error) {
	if s.ibuf >= s.nBufs {
		return nil, errorf("batch has %d buffers, the schema needs more", s.nBufs)
	}
	i := s.ibuf
	p := s.bufs + 16*i
	s.ibuf++
	off := int64(binary.LittleEndian.Uint64(s.meta[p:]))
	n := int64(binary.LittleEndian.Uint64(s.meta[p+8:]))
	if off < 0 || n < 0 || off > int64(len(s.body)) || n > int64(len(s.body))-off {
		return nil, errorf("buffer %d (offset %d, length %d) is outside the %d-byte message body", i, off, n, len(s.body))
	}
	if n == 0 {
		return memory.NewBufferBytes(nil), nil
	}
	raw := s.body[off : off+n : off+n]
	if s.codec != codecNone {
		if n < 8 {
			return nil, errorf("compressed buffer %d has %d bytes, less than its 8-byte length prefix", i, n)
		}
		size := int64(binary.LittleEndian.Uint64(raw))
		raw = raw[8:]
		if size != -1 {
			if size < 0 {
				return nil, errorf("compressed buffer %d declares uncompressed length %d", i, size)
			}
			return s.d.decompress(s.codec, raw, size, i)
		}
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%8 != 0 {
		return s.d.copyAligned(raw, i)
	}
	return memory.NewBufferBytes(raw), nil
}

func (s *batchSource) variadic() (int64, error) {
	if s.ivar >= s.nVars {
		return 0, errorf("batch has %d variadic buffer counts, the schema needs more", s.nVars)
	}
	v := int64(binary.LittleEndian.Uint64(s.meta[s.vars+8*s.ivar:]))
	s.ivar++
	if v < 0 || v > int64(s.nBufs-s.ibuf) {
		return 0, errorf("variadic buffer count %d exceeds the %d buffers left", v, s.nBufs-s.ibuf)
	}
	return v, nil
}

// hasValidity mirrors arrow-go's internal.HasValidityBitmap.
func hasValidity(id arrow.Type, version int16) bool {
	if version < metaV5 {
		return id != arrow.NULL
	}
	switch id {
	case arrow.NULL, arrow.DENSE_UNION, arrow.SPARSE_UNION, arrow.RUN_END_ENCODED:
		return false
	}
	return true
}

// load reads the array of type dt at the current node.
func (s *batchSource) load(dt arrow.DataType, depth int) (arrow.ArrayData, error) {
	if depth > maxDepth {
		return nil, errorf("arrays nest deeper than %d levels", maxDepth)
	}
	switch t := dt.(type) {
	case *arrow.NullType:
		n, err := s.node()
		if err != nil {
			return nil, err
		}
		return array.NewData(arrow.Null, int(n.length), []*memory.Buffer{nil}, nil, int(n.length), 0), nil
	case *arrow.DictionaryType:
		idx, err := s.loadLeaf(t.IndexType, 1)
		if err != nil {
			return nil, err
		}
		defer idx.Release()
		return array.NewData(t, idx.Len(), idx.Buffers(), nil, idx.NullN(), 0), nil
	case arrow.ExtensionType:
		st, err := s.load(t.StorageType(), depth+1)
		if err != nil {
			return nil, err
		}
		defer st.Release()
		return array.NewData(t, st.Len(), st.Buffers(), st.Children(), st.NullN(), 0), nil
	case *arrow.BinaryType, *arrow.StringType, *arrow.LargeBinaryType, *arrow.LargeStringType:
		return s.loadLeaf(dt, 2)
	case *arrow.BinaryViewType, *arrow.StringViewType:
		nv, err := s.variadic()
		if err != nil {
			return nil, err
		}
		return s.loadLeaf(dt, 1+int(nv))
	case *arrow.FixedSizeBinaryType:
		return s.loadLeaf(dt, 1)
	case *arrow.ListType, *arrow.LargeListType, *arrow.MapType:
		return s.loadNested(dt, 1, childTypes(dt), depth)
	case *arrow.ListViewType, *arrow.LargeListViewType:
		return s.loadNested(dt, 2, childTypes(dt), depth)
	case *arrow.FixedSizeListType:
		return s.loadNested(dt, 0, []arrow.DataType{t.Elem()}, depth)
	case *arrow.StructType:
		return s.loadNested(dt, 0, childTypes(t), depth)
	case *arrow.RunEndEncodedType:
		return s.loadNested(dt, 0, childTypes(t), depth)
	case arrow.UnionType:
		nb := 1
		if t.Mode() == arrow.DenseMode {
			nb = 2
		}
		return s.loadNested(dt, nb, childTypes(t), depth)
	case arrow.FixedWidthDataType:
		return s.loadLeaf(dt, 1)
	}
	return nil, errorf("type %s is not supported", dt)
}

// common reads the node and the validity buffer (if the type has one and
// the node has nulls) and appends it to bufs.
func (s *batchSource) common(dt arrow.DataType, bufs []*memory.Buffer) (fieldNode, []*memory.Buffer, error) {
	n, err := s.node()
	if err != nil {
		return n, bufs, err
	}
	var validity *memory.Buffer
	if hasValidity(dt.ID(), s.version) {
		if n.nulls == 0 {
			s.skipBuffer()
		} else if validity, err = s.buffer(); err != nil {
			return n, bufs, err
		}
	}
	return n, append(bufs, validity), nil
}

// loadLeaf loads a node with a validity slot and nData data buffers.
func (s *batchSource) loadLeaf(dt arrow.DataType, nData int) (arrow.ArrayData, error) {
	bufs := make([]*memory.Buffer, 0, 1+nData)
	defer func() { memory.ReleaseBuffers(bufs) }()
	n, bufs, err := s.common(dt, bufs)
	if err != nil {
		return nil, err
	}
	for i := 0; i < nData; i++ {
		if n.length == 0 && nData == 1 && i == 0 && isPrimitiveLayout(dt) {
			// arrow-go skips the data buffer of an empty primitive array.
			s.skipBuffer()
			bufs = append(bufs, nil)
			continue
		}
		b, err := s.buffer()
		if err != nil {
			return nil, err
		}
		bufs = append(bufs, b)
	}
	return array.NewData(dt, int(n.length), bufs, nil, int(n.nulls), 0), nil
}

func isPrimitiveLayout(dt arrow.DataType) bool {
	switch dt.(type) {
	case *arrow.FixedSizeBinaryType, *arrow.BinaryViewType, *arrow.StringViewType:
		return false
	case arrow.FixedWidthDataType:
		return true
	}
	return false
}

// loadNested loads a node with a validity slot, nData data buffers and the
// given children.
func (s *batchSource) loadNested(dt arrow.DataType, nData int, children []arrow.DataType, depth int) (arrow.ArrayData, error) {
	bufs := make([]*memory.Buffer, 0, 1+nData)
	defer func() { memory.ReleaseBuffers(bufs) }()
	n, bufs, err := s.common(dt, bufs)
	if err != nil {
		return nil, err
	}
	isUnion := dt.ID() == arrow.SPARSE_UNION || dt.ID() == arrow.DENSE_UNION
	if isUnion && bufs[0] != nil {
		return nil, errorf("union array with a validity bitmap (pre-1.0 format) is not supported")
	}
	for i := 0; i < nData; i++ {
		b, err := s.buffer()
		if err != nil {
			return nil, err
		}
		bufs = append(bufs, b)
	}
	subs := make([]arrow.ArrayData, 0, len(children))
	defer func() {
		for _, c := range subs {
			c.Release()
		}
	}()
	for _, ct := range children {
		c, err := s.load(ct, depth+1)
		if err != nil {
			return nil, err
		}
		subs = append(subs, c)
	}
	nulls := int(n.nulls)
	if isUnion || dt.ID() == arrow.RUN_END_ENCODED {
		nulls = 0
	}
	return array.NewData(dt, int(n.length), bufs, subs, nulls, 0), nil
}
