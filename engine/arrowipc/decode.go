package arrowipc

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"

	"github.com/ducktail/ducktail/base"
)

// Limits bound what one body may cost. Zero fields take the documented defaults.
type Limits struct {
	// MaxDecompressedBytes caps the sum of the uncompressed sizes declared by compressed buffers
	// across the whole stream. Default: 8 × len(body) but at least 1 MiB. The copies the decoder
	// must make (buffers misaligned in memory, delta dictionaries concatenated) count against it
	// too.
	MaxDecompressedBytes int64
	// MaxRows caps the total rows of all record batches. Default: 8 × len(body) (one bit per row).
	// It also caps the length of any single array, nested ones included.
	MaxRows int64
	// MaxBatches caps the number of record batch messages. Default 4096.
	MaxBatches int
}

// Default limit values.
const (
	DefaultMaxBatches         = 4096
	minMaxDecompressedBytes   = 1 << 20
	defaultBytesPerBodyByte   = 8
	defaultMaxRowsPerBodyByte = 8
	errPanicPrefix            = "arrow: malformed stream"
)

func (l Limits) withDefaults(n int) Limits {
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = max(defaultBytesPerBodyByte*int64(n), minMaxDecompressedBytes)
	}
	if l.MaxRows <= 0 {
		l.MaxRows = defaultMaxRowsPerBodyByte * int64(n)
	}
	if l.MaxBatches <= 0 {
		l.MaxBatches = DefaultMaxBatches
	}
	return l
}

// Stream is a decoded IPC stream. Its arrays point into the body passed to Decode wherever the
// data is uncompressed and needs no conversion (zero copy); the caller must keep body alive and
// unmodified until Release.
type Stream struct {
	Schema  *arrow.Schema
	Batches []arrow.RecordBatch
	Rows    int64 // sum of batch rows
}

// Release releases the record batches. The Stream must not be used after.
func (s *Stream) Release() {
	if s == nil {
		return
	}
	for _, b := range s.Batches {
		b.Release()
	}
	s.Batches = nil
}

// decoder is the state of one Decode call.
type decoder struct {
	mem    memory.Allocator
	lim    Limits
	budget int64 // what is left of lim.MaxDecompressedBytes
	zstd   *zstd.Decoder
	info   *schemaInfo
	// dicts holds, per dictionary id, the validated dictionary and any
	// validated deltas not yet concatenated to it.
	dicts map[int64][]arrow.ArrayData
	// validDicts holds concatenated/validated dictionaries already checked
	// in full, so a dictionary shared by many batches is checked once.
	validDicts map[arrow.ArrayData]struct{}
	// fieldHasDict[i] is whether top-level field i contains a dictionary.
	fieldHasDict []bool
	stream       Stream
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// tooLarge is an ErrTooLarge error naming the limit.
func tooLarge(format string, args ...any) error {
	return base.Errorf(base.ErrTooLarge, format, args...)
}

// wrap prefixes err with where, keeping its kind (ErrInvalid by default).
func wrap(err error, format string, args ...any) error {
	kind := base.KindOf(err)
	if kind == nil {
		kind = base.ErrInvalid
	}
	return base.Errorf(kind, "arrow: "+format+": %w", append(args, err)...)
}

func (d *decoder) charge(n int64, what string) error {
	if n > d.budget {
		return tooLarge("%s exceeds Limits.MaxDecompressedBytes (%d bytes for this request, %d left)",
			what, d.lim.MaxDecompressedBytes, d.budget)
	}
	d.budget -= n
	return nil
}

func (d *decoder) close() {
	if d.zstd != nil {
		d.zstd.Close()
	}
	for _, pieces := range d.dicts {
		for _, p := range pieces {
			p.Release()
		}
	}
}

// recovered turns a panic inside arrow-go or this package into an error.
func recovered(r any) error {
	return base.Errorf(base.ErrInvalid, "%s: %v", errPanicPrefix, r)
}

// fileMagic opens (and ends) an Arrow IPC file, as opposed to a stream.
var fileMagic = []byte("ARROW1")

// checkNotFile refuses an Arrow IPC file: the stream format is what
// ingestion takes, and read as a stream a file's magic is a nonsense length.
func checkNotFile(body []byte) error {
	if bytes.HasPrefix(body, fileMagic) {
		return base.Errorf(base.ErrInvalid, "arrow: the body is an Arrow IPC file (it starts with ARROW1); "+
			"send the IPC stream format (application/vnd.apache.arrow.stream), e.g. tableToIPC(t, {format: 'stream'}) or ipc.NewWriter")
	}
	return nil
}

// Decode parses and fully validates body as an Arrow IPC stream. Every failure is an error wrapping
// base.ErrInvalid whose message says what is wrong, or base.ErrTooLarge when a Limits bound is
// exceeded (naming the limit). It never panics, and the memory it allocates is bounded by a small
// multiple of len(body) plus the MaxDecompressedBytes allowance. A nil mem means
// memory.DefaultAllocator; it is used for decompressed and realigned buffers.
func Decode(body []byte, mem memory.Allocator, lim Limits) (s *Stream, err error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if err := checkNotFile(body); err != nil {
		return nil, err
	}
	lim = lim.withDefaults(len(body))
	d := &decoder{
		mem:        mem,
		lim:        lim,
		budget:     lim.MaxDecompressedBytes,
		dicts:      map[int64][]arrow.ArrayData{},
		validDicts: map[arrow.ArrayData]struct{}{},
	}
	defer d.close()
	defer func() {
		if r := recover(); r != nil {
			d.stream.Release()
			s, err = nil, recovered(r)
		}
	}()
	if err := d.run(body); err != nil {
		d.stream.Release()
		return nil, err
	}
	out := d.stream
	return &out, nil
}

// DecodeSchema parses only the schema message at the start of body (used for schema uploads).
func DecodeSchema(body []byte) (schema *arrow.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			schema, err = nil, recovered(r)
		}
	}()
	if err := checkNotFile(body); err != nil {
		return nil, err
	}
	f := framer{b: body}
	info, err := readSchema(&f)
	if err != nil {
		return nil, err
	}
	return info.schema, nil
}

func readSchema(f *framer) (*schemaInfo, error) {
	m, ok, err := f.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, base.Errorf(base.ErrInvalid, "arrow: the stream has no schema message")
	}
	if m.headerType != hdrSchema {
		return nil, base.Errorf(base.ErrInvalid,
			"arrow: message 0 is a %s, a stream must start with its schema", headerName(m.headerType))
	}
	info, err := parseSchema(m, m.header.b)
	if err != nil {
		return nil, wrap(err, "message 0 (schema)")
	}
	return info, nil
}

func headerName(h uint8) string {
	switch h {
	case hdrSchema:
		return "schema"
	case hdrDictionaryBatch:
		return "dictionary batch"
	case hdrRecordBatch:
		return "record batch"
	}
	return fmt.Sprintf("message of type %d", h)
}

func (d *decoder) run(body []byte) error {
	f := framer{b: body}
	info, err := readSchema(&f)
	if err != nil {
		return err
	}
	d.info = info
	d.stream.Schema = info.schema
	d.fieldHasDict = make([]bool, info.schema.NumFields())
	for i, fd := range info.schema.Fields() {
		d.fieldHasDict[i] = hasDictionary(fd.Type)
	}
	for {
		m, ok, err := f.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch m.headerType {
		case hdrSchema:
			return base.Errorf(base.ErrInvalid, "arrow: message %d: a second schema message", m.index)
		case hdrDictionaryBatch:
			if err := d.readDictionary(m); err != nil {
				return wrap(err, "message %d (dictionary batch)", m.index)
			}
		case hdrRecordBatch:
			if err := d.readBatch(m); err != nil {
				return err
			}
		}
	}
}

func (d *decoder) readBatch(m message) error {
	bi := len(d.stream.Batches)
	if bi >= d.lim.MaxBatches {
		return wrap(tooLarge("the stream has more than %d record batches (Limits.MaxBatches)", d.lim.MaxBatches),
			"message %d", m.index)
	}
	src, err := newBatchSource(d, m.header, m.version, m.body)
	if err != nil {
		return wrap(err, "message %d (batch %d)", m.index, bi)
	}
	if src.length > d.lim.MaxRows-d.stream.Rows {
		return wrap(tooLarge("the stream has more than %d rows (Limits.MaxRows)", d.lim.MaxRows),
			"message %d (batch %d)", m.index, bi)
	}
	schema := d.info.schema
	cols := make([]arrow.ArrayData, 0, schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i, fd := range schema.Fields() {
		data, err := src.load(fd.Type, 0)
		if err != nil {
			return wrap(err, "message %d (batch %d) column %q", m.index, bi, fd.Name)
		}
		cols = append(cols, data)
		if int64(data.Len()) != src.length {
			return base.Errorf(base.ErrInvalid, "arrow: batch %d column %q has %d rows, the batch declares %d",
				bi, fd.Name, data.Len(), src.length)
		}
		if d.fieldHasDict[i] {
			var path [maxDepth + 2]int32
			path[0] = int32(i)
			if err := d.resolve(data, path[:1], 0); err != nil {
				return wrap(err, "batch %d column %q", bi, fd.Name)
			}
		}
		v := validator{d: d}
		if err := v.validate(data, "", 0); err != nil {
			return wrap(err, "batch %d column %q", bi, fd.Name)
		}
	}
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		arrs[i] = array.MakeFromData(c)
	}
	rec := array.NewRecordBatch(schema, arrs, src.length)
	for _, a := range arrs {
		a.Release()
	}
	d.stream.Batches = append(d.stream.Batches, rec)
	d.stream.Rows += src.length
	return nil
}

func (d *decoder) readDictionary(m message) error {
	db := m.header
	if err := db.checkScalars(8, 0, 1); err != nil {
		return err
	}
	id, _ := db.i64(0, 0)
	isDelta, _ := db.u8(2, 0)
	dt, ok := d.info.dictTypes[id]
	if !ok {
		return errorf("no field of the schema uses dictionary id %d", id)
	}
	rb, ok, err := db.table(1)
	if err != nil {
		return err
	}
	if !ok {
		return errorf("dictionary batch %d has no data", id)
	}
	src, err := newBatchSource(d, rb, m.version, m.body)
	if err != nil {
		return err
	}
	data, err := src.load(dt.value, 0)
	if err != nil {
		return err
	}
	v := validator{d: d, dictsOptional: true}
	if err := v.validate(data, "", 0); err != nil {
		data.Release()
		return fmt.Errorf("dictionary %d: %w", id, err)
	}
	pieces := d.dicts[id]
	if isDelta != 0 {
		if len(pieces) == 0 {
			data.Release()
			return errorf("delta for dictionary %d, which has no dictionary yet", id)
		}
		if hasDictionary(dt.value) {
			data.Release()
			return errorf("delta for dictionary %d whose values are dictionary-encoded is not supported", id)
		}
		d.dicts[id] = append(pieces, data)
		return nil
	}
	for _, p := range pieces {
		p.Release()
	}
	d.dicts[id] = append(pieces[:0], data)
	return nil
}

// resolve attaches dictionaries to every dictionary-encoded array in data,
// concatenating pending deltas first. path is the field path of data and
// has room for maxDepth+2 entries.
func (d *decoder) resolve(data arrow.ArrayData, path []int32, depth int) error {
	if depth > maxDepth {
		return errorf("arrays nest deeper than %d levels", maxDepth)
	}
	dt := data.DataType()
	if ext, ok := dt.(arrow.ExtensionType); ok {
		dt = ext.StorageType()
	}
	if dt.ID() == arrow.DICTIONARY {
		var key [4 * (maxDepth + 2)]byte
		k := key[:0]
		for _, p := range path {
			k = append(k, byte(p), byte(p>>8), byte(p>>16), byte(p>>24))
		}
		id, ok := d.info.dictIDs[string(k)]
		if !ok {
			return errorf("no dictionary id for field path %v", path)
		}
		dict, err := d.dictionary(id)
		if err != nil {
			return err
		}
		ad, ok := data.(*array.Data)
		if !ok {
			return errorf("unexpected array data %T", data)
		}
		ad.SetDictionary(dict)
		if err := d.resolve(dict, path, depth+1); err != nil {
			return err
		}
	}
	for j, c := range data.Children() {
		if len(path) >= cap(path) {
			return errorf("arrays nest deeper than %d levels", maxDepth)
		}
		if err := d.resolve(c, append(path, int32(j)), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// dictionary returns the current dictionary of id, concatenating deltas.
func (d *decoder) dictionary(id int64) (arrow.ArrayData, error) {
	pieces := d.dicts[id]
	switch len(pieces) {
	case 0:
		return nil, errorf("dictionary %d is used before any dictionary batch defines it", id)
	case 1:
		return pieces[0], nil
	}
	var size int64
	for _, p := range pieces {
		size += dataSize(p)
	}
	if err := d.charge(size, fmt.Sprintf("concatenating %d pieces of dictionary %d (%d bytes)", len(pieces), id, size)); err != nil {
		return nil, err
	}
	arrs := make([]arrow.Array, len(pieces))
	for i, p := range pieces {
		arrs[i] = array.MakeFromData(p)
	}
	combined, err := array.Concatenate(arrs, d.mem)
	for _, a := range arrs {
		a.Release()
	}
	if err != nil {
		return nil, errorf("concatenating dictionary %d: %v", id, err)
	}
	data := combined.Data()
	data.Retain()
	combined.Release()
	for _, p := range pieces {
		p.Release()
	}
	d.dicts[id] = append(pieces[:0], data)
	return data, nil
}

// dataSize is the total byte size of data's buffers, children and
// dictionary.
func dataSize(data arrow.ArrayData) int64 {
	var n int64
	for _, b := range data.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range data.Children() {
		n += dataSize(c)
	}
	if dict := dictOf(data); dict != nil {
		n += dataSize(dict)
	}
	return n
}
