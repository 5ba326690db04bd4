package segment

import (
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/ducktail/ducktail/base"
)

// Info describes a written segment.
type Info struct {
	FirstID, LastID int64 // _id of the first and last row
	MinTS, MaxTS    int64 // smallest and largest _ts, unix milliseconds
	Rows            int64
	Bytes           int64  // size of the file
	CRC32C          uint32 // CRC-32C (Castagnoli) of the file's bytes
}

// The default layout. Row groups are SPEC 3's "about 128k rows". Pages are
// cut by size at 64 KiB, not pqarrow's 1 MiB nor our earlier 256 KiB: a
// seek read decompresses one page of every column that has many (_data),
// so the page size bounds it. arrow-go has no rows-per-page setting, so
// the columns that encode to a few bytes a row (_ts) had one page per
// group and were skipped by decoding from the group's start; the sink now
// also ends their pages every 8k rows (PageRows, sink.go). Measured with
// BenchmarkReadLayout (1,000-row reads of a 1M-row segment of 100-byte
// events; docs/range-reads.md): 128k rows and 256 KiB pages 1.19 ms,
// 64 KiB pages 0.89, and pages also cut every 8k rows about 0.6, as fast as
// 32k-row groups, for 1% more file and no measurable write cost.
const (
	DefaultRowGroupRows = 128 << 10
	DefaultPageSize     = 64 << 10
	DefaultPageRows     = 8 << 10
)

// WriterOptions tune Write. The zero value gives the defaults.
type WriterOptions struct {
	// RowGroupRows is the number of rows per row group. Default
	// DefaultRowGroupRows.
	RowGroupRows int64
	// CompressionLevel is the zstd level. Default (0): the codec's default.
	CompressionLevel int
	// PageSize is the target data page size in bytes (before compression).
	// Default DefaultPageSize.
	PageSize int64
	// PageRows bounds the rows of a data page of a column of flat type that
	// is not dictionary-encoded (sink.go): its pages end every PageRows
	// rows of the row group, or sooner by PageSize. Default
	// DefaultPageRows.
	PageRows int64
	// Allocator allocates the writer's buffers. Default memory.DefaultAllocator.
	Allocator memory.Allocator
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *WriterOptions) EnsureDefaults() {
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.CompressionLevel == 0 {
		o.CompressionLevel = compress.DefaultCompressionLevel
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.PageRows <= 0 {
		o.PageRows = DefaultPageRows
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
}

// WriterProperties returns the Parquet properties Write uses for schema s:
// zstd, statistics on every column, _id and _ts DELTA_BINARY_PACKED, row
// groups of o.RowGroupRows rows, and a dictionary only for text and binary
// columns. A dictionary costs a hash lookup per value; for fixed-width
// numbers (mostly distinct: measurements, timestamps, ids) it rarely pays,
// and zstd already compresses the repetitive ones. Measured on the demo
// topic it was about a third of the flush's CPU. Benchmarks use the same
// properties for the raw pqarrow baseline.
func (o WriterOptions) WriterProperties(s *arrow.Schema) *parquet.WriterProperties {
	o.EnsureDefaults()
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(o.Allocator),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(o.CompressionLevel),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(o.RowGroupRows),
		parquet.WithDataPageSize(o.PageSize),
		// The page index (offset and column index of every page) lets a
		// reader jump to the page holding a row: a 1,000-row read decodes
		// a page per column instead of the whole row group.
		parquet.WithPageIndexEnabled(true),
		parquet.WithDictionaryFor(base.ColID, false),
		parquet.WithDictionaryFor(base.ColTS, false),
		// _data (untyped bodies) is mostly distinct: a dictionary fills up
		// and is dropped after ~1 MiB, having cost a hash per value, and a
		// seek read would load and decode that dictionary page every time.
		parquet.WithDictionaryFor(base.ColData, false),
		parquet.WithEncodingFor(base.ColID, parquet.Encodings.DeltaBinaryPacked),
		parquet.WithEncodingFor(base.ColTS, parquet.Encodings.DeltaBinaryPacked),
		parquet.WithCreatedBy("ducktail"),
	}
	for _, f := range s.Fields() {
		if _, fixed := f.Type.(arrow.FixedWidthDataType); fixed && f.Type.ID() != arrow.DICTIONARY {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// ArrowWriterProperties returns pqarrow properties matching Write's: the
// Arrow schema is stored in the file. (Write itself stores the schema by
// hand, since it hands pqarrow dictionary-typed utf8 columns.)
func (o WriterOptions) ArrowWriterProperties() pqarrow.ArrowWriterProperties {
	o.EnsureDefaults()
	return pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(o.Allocator))
}

// Write writes recs (all with schema s, which starts with the system
// columns, in id order) as one Parquet file to w and describes it. Each row
// group's columns are written straight from the records' arrays, one page at
// a time: nothing is buffered beyond a page per column, plus, for a utf8
// column, the current row group's dictionary and indices (4 bytes a row).
// recs are not released. Bad input (schema, ids not dense, _ts decreasing, no rows) is an
// error wrapping base.ErrInvalid; nothing useful is then in w.
func Write(w io.Writer, s *arrow.Schema, recs []arrow.RecordBatch, opts WriterOptions) (Info, error) {
	opts.EnsureDefaults()
	info, err := scan(s, recs)
	if err != nil {
		return Info{}, err
	}
	cw := &crcWriter{w: w, tab: crc32.MakeTable(crc32.Castagnoli)}
	phys, isDict := physicalSchema(s)
	stored, err := serializeSchema(s, opts.Allocator)
	if err != nil {
		return Info{}, err
	}
	sk, err := newSink(s, phys, cw, opts.WriterProperties(s), opts.PageRows, stored, opts.Allocator)
	if err != nil {
		if cw.err != nil { // the header could not be written
			return Info{}, cw.wrap(err)
		}
		return Info{}, base.Errorf(base.ErrInvalid, "segment: cannot make a Parquet writer for schema %s: %w", s, err)
	}
	dicts := dictBuilder{mem: opts.Allocator}
	// Non-empty records and their first row's position in the segment.
	var (
		parts  []arrow.RecordBatch
		starts []int64
		total  int64
	)
	for _, r := range recs {
		if r.NumRows() > 0 {
			parts = append(parts, r)
			starts = append(starts, total)
			total += r.NumRows()
		}
	}
	chunks := make([]arrow.Array, 0, len(parts))
	for lo := int64(0); lo < total; lo += opts.RowGroupRows {
		n := min(opts.RowGroupRows, total-lo)
		// Records first..last cover rows [lo, lo+n).
		first := 0
		for first+1 < len(parts) && starts[first+1] <= lo {
			first++
		}
		last := first
		for last+1 < len(parts) && starts[last+1] < lo+n {
			last++
		}
		if err := sk.newRowGroup(); err != nil {
			sk.close()
			return Info{}, cw.wrap(err)
		}
		for col := range s.NumFields() {
			chunks = chunks[:0]
			for _, r := range parts[first : last+1] {
				chunks = append(chunks, r.Column(col))
			}
			off := lo - starts[first]
			var err error
			if !isDict[col] {
				err = sk.writeChunks(col, chunks, off, n)
			} else if d := dicts.build(chunks, off, n); d != nil {
				err = sk.writeDict(col, d)
				d.Release()
			} else {
				plain := plainText(chunks, opts.Allocator)
				err = sk.writeChunks(col, plain, off, n)
				for _, p := range plain {
					p.Release()
				}
			}
			if err != nil {
				sk.close()
				return Info{}, cw.wrap(err)
			}
		}
	}
	if err := sk.close(); err != nil {
		return Info{}, cw.wrap(err)
	}
	info.Bytes = cw.n
	info.CRC32C = cw.crc
	return info, nil
}

// conforms reports whether records of schema r can be written as s: the
// same fields, except that a utf8 column may come dictionary-encoded
// (dictionary<values=utf8, indices=int32>).
func conforms(r, s *arrow.Schema) bool {
	if r.Equal(s) {
		return true
	}
	if r.NumFields() != s.NumFields() {
		return false
	}
	for i := range s.NumFields() {
		rf, sf := r.Field(i), s.Field(i)
		if rf.Name != sf.Name {
			return false
		}
		if !arrow.TypeEqual(rf.Type, sf.Type) &&
			!(sf.Type.ID() == arrow.STRING && arrow.TypeEqual(rf.Type, dictType)) {
			return false
		}
	}
	return true
}

// scan checks recs against s and the id/ts invariants and returns their
// id and ts ranges and row count.
func scan(s *arrow.Schema, recs []arrow.RecordBatch) (Info, error) {
	if err := CheckSchema(s); err != nil {
		return Info{}, err
	}
	info := Info{MinTS: math.MaxInt64, MaxTS: math.MinInt64}
	next := int64(0)
	lastTS := int64(math.MinInt64)
	for i, r := range recs {
		if !conforms(r.Schema(), s) {
			return Info{}, base.Errorf(base.ErrInvalid, "segment: record %d has schema %s, want %s", i, r.Schema(), s)
		}
		if r.NumRows() == 0 {
			continue
		}
		ids, ok1 := r.Column(0).(*array.Int64)
		tss, ok2 := r.Column(1).(*array.Timestamp)
		if !ok1 || !ok2 || ids.NullN() > 0 || tss.NullN() > 0 {
			return Info{}, base.Errorf(base.ErrInvalid, "segment: record %d: %s and %s must have no nulls", i, base.ColID, base.ColTS)
		}
		idv, tsv := ids.Int64Values(), tss.TimestampValues()
		if info.Rows == 0 {
			info.FirstID = idv[0]
			next = idv[0]
		}
		for j, id := range idv {
			if id != next {
				return Info{}, base.Errorf(base.ErrInvalid, "segment: record %d row %d: %s %d, want %d (ids must be dense and increasing)", i, j, base.ColID, id, next)
			}
			next++
			ts := int64(tsv[j])
			if ts < lastTS {
				return Info{}, base.Errorf(base.ErrInvalid, "segment: record %d row %d: %s %d is before the previous row's %d", i, j, base.ColTS, ts, lastTS)
			}
			lastTS = ts
		}
		info.MinTS = min(info.MinTS, int64(tsv[0]))
		info.MaxTS = max(info.MaxTS, int64(tsv[len(tsv)-1]))
		info.Rows += r.NumRows()
	}
	if info.Rows == 0 {
		return Info{}, base.Errorf(base.ErrInvalid, "segment: no rows to write")
	}
	info.LastID = next - 1
	return info, nil
}

// crcWriter counts and checksums what passes through it. It has no Close,
// so pqarrow's Close does not close the destination.
type crcWriter struct {
	w   io.Writer
	tab *crc32.Table
	crc uint32
	n   int64
	err error // first error of w
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, c.tab, p[:n])
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// wrap returns the destination's own error if it failed (so a full disk
// stays recognisable), else err from the Parquet writer.
func (c *crcWriter) wrap(err error) error {
	if c.err != nil {
		err = c.err
	}
	return fmt.Errorf("segment: cannot write Parquet: %w", err)
}
