package segment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/internal/retype"
)

// group is what the reader knows of a row group from the footer.
type group struct {
	rows         int64
	firstID      int64
	minTS, maxTS int64 // math.MinInt64/MaxInt64 when the file has no _ts statistics
	// seekable: every column chunk has an offset index, so a read can jump
	// to the page holding a row instead of decoding the group from its start.
	seekable bool
	// allNull[c] says leaf column c holds only nulls in this group (its
	// statistics say so): a seek read makes it instead of decoding it.
	allNull []bool
	// constant[c], when not nil, is the one value every row of text leaf
	// column c holds in this group (no nulls, min = max): made, not read.
	constant [][]byte
}

// Reader reads one segment. It is safe for concurrent use.
type Reader struct {
	mu     sync.Mutex
	fr     *pqarrow.FileReader
	schema *arrow.Schema
	groups []group
	rows   int64
	leaves []int // every leaf column index
	mem    memory.Allocator
	// direct is how many leading fields are leaf columns of the same
	// index (before the first struct): only those are made, not read,
	// when their statistics tell their values.
	direct int
}

// Open reads the footer of the segment in obj (size bytes) and checks that
// it starts with the system columns and has _id statistics. Problems with
// the file are errors wrapping base.ErrCorrupt.
func Open(obj io.ReaderAt, size int64, mem memory.Allocator) (*Reader, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	props := parquet.NewReaderProperties(mem)
	// Read column chunks through a small buffer rather than whole: a seek
	// read of 1,000 rows then reads only the pages it needs, not every
	// column chunk of the row group (megabytes) into memory.
	props.BufferedStreamEnabled = true
	props.BufferSize = readBufferSize
	pf, err := file.NewParquetReader(io.NewSectionReader(obj, 0, size), file.WithReadProps(props))
	if err != nil {
		return nil, base.Errorf(base.ErrCorrupt, "segment: cannot read Parquet footer: %w", err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, mem)
	if err != nil {
		pf.Close()
		return nil, base.Errorf(base.ErrCorrupt, "segment: cannot read Arrow schema: %w", err)
	}
	s, err := fr.Schema()
	if err == nil {
		err = CheckSchema(s)
	}
	if err != nil {
		pf.Close()
		return nil, base.Errorf(base.ErrCorrupt, "segment: bad schema: %w", err)
	}
	r := &Reader{fr: fr, schema: cleanSchema(s), mem: mem}
	for _, f := range r.schema.Fields() {
		if _, nested := f.Type.(arrow.NestedType); nested {
			break
		}
		r.direct++
	}
	md := pf.MetaData()
	flat := true
	for i := range md.Schema.NumColumns() {
		r.leaves = append(r.leaves, i)
		// arrow-go v18.8 seeks repeated (list) columns wrongly: values
		// shift or levels mismatch. Such segments are read whole-group.
		flat = flat && md.Schema.Column(i).MaxRepetitionLevel() == 0
	}
	next := int64(0)
	for i := range md.NumRowGroups() {
		g, err := readGroup(md.RowGroup(i), flat)
		if err != nil {
			pf.Close()
			return nil, base.Errorf(base.ErrCorrupt, "segment: row group %d: %w", i, err)
		}
		if i > 0 && g.firstID != next {
			pf.Close()
			return nil, base.Errorf(base.ErrCorrupt, "segment: row group %d starts at id %d, want %d", i, g.firstID, next)
		}
		next = g.firstID + g.rows
		r.groups = append(r.groups, g)
		r.rows += g.rows
	}
	return r, nil
}

// readGroup reads a row group's row count and _id/_ts statistics, and
// whether seek reads may use it: flat (no repeated column) and with an
// offset index.
func readGroup(rg *metadata.RowGroupMetaData, flat bool) (group, error) {
	g := group{rows: rg.NumRows(), minTS: math.MinInt64, maxTS: math.MaxInt64, seekable: flat && hasOffsetIndex(rg)}
	if g.seekable {
		g.allNull, g.constant = knownColumns(rg)
	}
	idMin, idMax, ok, err := int64Stats(rg, 0)
	if err != nil {
		return g, err
	}
	if !ok || idMax-idMin+1 != g.rows {
		return g, fmt.Errorf("%s statistics missing or not dense (min %d, max %d, %d rows)", base.ColID, idMin, idMax, g.rows)
	}
	g.firstID = idMin
	if lo, hi, ok, err := int64Stats(rg, 1); err != nil {
		return g, err
	} else if ok {
		g.minTS, g.maxTS = lo, hi
	}
	return g, nil
}

// int64Stats returns the min/max statistics of leaf column col.
func int64Stats(rg *metadata.RowGroupMetaData, col int) (lo, hi int64, ok bool, err error) {
	cc, err := rg.ColumnChunk(col)
	if err != nil {
		return 0, 0, false, err
	}
	if set, err := cc.StatsSet(); err != nil || !set {
		return 0, 0, false, err
	}
	st, err := cc.Statistics()
	if err != nil {
		return 0, 0, false, err
	}
	is, isInt := st.(*metadata.Int64Statistics)
	if !isInt || !is.HasMinMax() {
		return 0, 0, false, nil
	}
	return is.Min(), is.Max(), true, nil
}

// Schema returns the stored Arrow schema.
func (r *Reader) Schema() *arrow.Schema { return r.schema }

// NumRows returns the number of rows in the segment.
func (r *Reader) NumRows() int64 { return r.rows }

// NumRowGroups returns the number of row groups in the segment.
func (r *Reader) NumRowGroups() int { return len(r.groups) }

// ReadRange returns the rows with fromID <= _id < toID and sinceMs <= _ts <
// untilMs (math.MinInt64/math.MaxInt64 for open ends), in id order, at most
// limit of them if limit > 0. It reads only the row groups whose statistics
// overlap the ranges and slices inside them by position: the row of id x is
// x-firstID, and the ts bounds are found by binary search over _ts. The
// records have the stored schema; the caller releases them.
func (r *Reader) ReadRange(ctx context.Context, fromID, toID, sinceMs, untilMs int64, limit int64) ([]arrow.RecordBatch, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fr == nil {
		return nil, base.Errorf(base.ErrClosed, "segment: reader is closed")
	}
	var out []arrow.RecordBatch
	fail := func(err error) ([]arrow.RecordBatch, error) {
		for _, rec := range out {
			rec.Release()
		}
		return nil, err
	}
	var got int64
	for i, g := range r.groups {
		if limit > 0 && got >= limit {
			break
		}
		if g.firstID >= toID || g.minTS >= untilMs {
			break // ids and ts only grow from here
		}
		if g.firstID+g.rows <= fromID || g.maxTS < sinceMs {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		// Row window of the id range; no subtraction of an open end, which
		// would overflow.
		lo, hi := int64(0), g.rows
		if fromID > g.firstID {
			lo = fromID - g.firstID
		}
		if toID < g.firstID+g.rows {
			hi = toID - g.firstID
		}
		if lo >= hi {
			continue
		}
		recs, err := r.readGroup(ctx, i, lo, hi, sinceMs, untilMs, limit-got)
		if err != nil {
			return fail(err)
		}
		for _, rec := range recs {
			got += rec.NumRows()
		}
		out = append(out, recs...)
	}
	return out, nil
}

// readGroup reads row group i and returns its rows in the window [lo, hi)
// that have sinceMs <= _ts < untilMs, at most limit of them if limit > 0.
func (r *Reader) readGroup(ctx context.Context, i int, lo, hi, sinceMs, untilMs, limit int64) ([]arrow.RecordBatch, error) {
	if g := r.groups[i]; g.seekable && (lo > 0 || hi < g.rows) {
		return r.seekGroup(ctx, i, lo, hi, sinceMs, untilMs, limit)
	}
	tbl, err := r.fr.RowGroup(i).ReadTable(ctx, r.leaves)
	if err != nil {
		return nil, base.Errorf(base.ErrCorrupt, "segment: cannot read row group %d: %w", i, err)
	}
	defer tbl.Release()
	if tbl.NumRows() != r.groups[i].rows {
		return nil, base.Errorf(base.ErrCorrupt, "segment: row group %d has %d rows, its footer says %d", i, tbl.NumRows(), r.groups[i].rows)
	}
	if g := r.groups[i]; sinceMs > g.minTS || untilMs <= g.maxTS {
		lo, hi = tsWindow(tbl.Column(1).Data(), lo, hi, sinceMs, untilMs)
	}
	if limit > 0 {
		hi = lo + min(hi-lo, limit) // lo+limit would overflow for a huge limit
	}
	if lo >= hi {
		return nil, nil
	}
	tr := array.NewTableReader(tbl, r.groups[i].rows)
	defer tr.Release()
	var out []arrow.RecordBatch
	var pos int64
	for tr.Next() {
		rec := tr.RecordBatch()
		n := rec.NumRows()
		if a, b := max(lo, pos), min(hi, pos+n); a < b {
			sl := rec.NewSlice(a-pos, b-pos)
			o, err := retype.RebindRecord(sl, r.schema) // nested labels differ after Parquet; the data is the same
			sl.Release()
			if err != nil {
				for _, rec := range out {
					rec.Release()
				}
				return nil, base.Errorf(base.ErrCorrupt, "segment: row group %d: %w", i, err)
			}
			out = append(out, o)
		}
		pos += n
	}
	if err := tr.Err(); err != nil {
		for _, rec := range out {
			rec.Release()
		}
		return nil, base.Errorf(base.ErrCorrupt, "segment: row group %d: %w", i, err)
	}
	return out, nil
}

// tsWindow narrows the row window [lo, hi) to the rows whose _ts (column
// ts, non-decreasing) is in [sinceMs, untilMs), by binary search.
func tsWindow(ts *arrow.Chunked, lo, hi, sinceMs, untilMs int64) (int64, int64) {
	chunks := ts.Chunks()
	ends := make([]int64, len(chunks)) // ends[j]: rows in chunks[:j+1]
	var n int64
	for j, c := range chunks {
		n += int64(c.Len())
		ends[j] = n
	}
	at := func(p int64) int64 { // the _ts of row p
		j := sort.Search(len(ends), func(j int) bool { return ends[j] > p })
		start := ends[j] - int64(chunks[j].Len())
		return int64(chunks[j].(*array.Timestamp).Value(int(p - start)))
	}
	search := func(bound int64) int64 { // first row in [lo, hi) with ts >= bound
		return lo + int64(sort.Search(int(hi-lo), func(k int) bool { return at(lo+int64(k)) >= bound }))
	}
	newLo, newHi := lo, hi
	if sinceMs != math.MinInt64 {
		newLo = search(sinceMs)
	}
	if untilMs != math.MaxInt64 {
		newHi = search(untilMs)
	}
	return newLo, newHi
}

// Close releases the reader. It does not close the underlying object.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fr == nil {
		return nil
	}
	err := r.fr.ParquetReader().Close()
	r.fr = nil
	return err
}

// fieldIDKey is the field metadata pqarrow adds to every field it reads.
const fieldIDKey = "PARQUET:field_id"

// cleanSchema returns s without the field-id metadata pqarrow adds on read,
// so that a segment's records have the schema they were written with.
func cleanSchema(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i, f := range fields {
		fields[i] = cleanField(f)
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

func cleanField(f arrow.Field) arrow.Field {
	if i := f.Metadata.FindKey(fieldIDKey); i >= 0 {
		keys, vals := f.Metadata.Keys(), f.Metadata.Values()
		keys = append(keys[:i:i], keys[i+1:]...)
		vals = append(vals[:i:i], vals[i+1:]...)
		f.Metadata = arrow.NewMetadata(keys, vals)
	}
	switch t := f.Type.(type) {
	case *arrow.StructType:
		children := t.Fields()
		for i, c := range children {
			children[i] = cleanField(c)
		}
		f.Type = arrow.StructOf(children...)
	case *arrow.ListType:
		f.Type = arrow.ListOfField(cleanField(t.ElemField()))
	case *arrow.LargeListType:
		f.Type = arrow.LargeListOfField(cleanField(t.ElemField()))
	case *arrow.FixedSizeListType:
		f.Type = arrow.FixedSizeListOfField(t.Len(), cleanField(t.ElemField()))
	}
	return f
}

// knownColumns reports, for each leaf column of rg, whether its statistics
// say every value is null (as _sub and _tenant are in a stream without
// substreams or tenants), and, for a text column with no nulls whose
// minimum is its maximum (_content_type, and _event in a group of one
// event type), that one value. Without statistics a column is read.
func knownColumns(rg *metadata.RowGroupMetaData) (allNull []bool, constant [][]byte) {
	allNull = make([]bool, rg.NumColumns())
	constant = make([][]byte, rg.NumColumns())
	for c := range allNull {
		cc, err := rg.ColumnChunk(c)
		if err != nil {
			continue
		}
		if set, err := cc.StatsSet(); err != nil || !set {
			continue
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasNullCount() || cc.NumValues() == 0 {
			continue
		}
		allNull[c] = st.NullCount() == cc.NumValues()
		if bs, ok := st.(*metadata.ByteArrayStatistics); ok && st.NullCount() == 0 && bs.HasMinMax() &&
			rg.Schema.Column(c).LogicalType().Equals(schema.StringLogicalType{}) && bytes.Equal(bs.Min(), bs.Max()) {
			constant[c] = bytes.Clone(bs.Min())
		}
	}
	return allNull, constant
}
