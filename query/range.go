package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/internal/mempool"
	"github.com/ducktail/ducktail/internal/retype"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/manifest"
)

// Range selects events: ids in [From, To) and timestamps in [Since, Until),
// of one of Types (any type when empty), at most Limit of them (0: no
// limit). Use AllRange for open ends.
type Range struct {
	From, To     int64
	Since, Until int64
	Types        []string
	Limit        int64
}

// AllRange is the range with every end open.
func AllRange() Range {
	return Range{From: 0, To: math.MaxInt64, Since: math.MinInt64, Until: math.MaxInt64}
}

// Reader reads ranges of streams. Between reads it keeps open segment
// readers (their footers parsed) and it decodes Parquet pages into recycled
// buffers (internal/mempool), so that a small read costs neither a footer
// parse nor garbage for the collector. It is safe for concurrent use.
type Reader struct {
	store storage.Store
	segs  *segReaders
}

// NewReader returns a Reader of the segments in store that keeps up to
// idle open segment readers between reads (DefaultIdleSegments when idle
// is 0; none when it is negative).
func NewReader(store storage.Store, idle int) *Reader {
	if idle == 0 {
		idle = DefaultIdleSegments
	}
	return &Reader{store: store, segs: newSegReaders(mempool.New(), idle)}
}

// Close closes the idle segment readers. Reads still running finish; the
// readers they use are closed when they are done.
func (rd *Reader) Close() { rd.segs.close() }

// Read calls fn with the records of snap that fall in r, in id order. The
// records have the stream's stored schema; they, and every value in them,
// are valid only during the call: their buffers are recycled after it.
func (rd *Reader) Read(ctx context.Context, snap *engine.Snapshot, r Range, fn func(arrow.RecordBatch) error) error {
	if err := rd.read(ctx, snap, r, fn); err != nil && !errors.Is(err, errLimit) {
		return err
	}
	return nil
}

// Read is Reader.Read with a Reader of store made for this one read.
func Read(ctx context.Context, store storage.Store, snap *engine.Snapshot, r Range, fn func(arrow.RecordBatch) error) error {
	rd := NewReader(store, -1)
	defer rd.Close()
	return rd.Read(ctx, snap, r, fn)
}

func (rd *Reader) read(ctx context.Context, snap *engine.Snapshot, r Range, fn func(arrow.RecordBatch) error) error {
	if r.From >= r.To || r.Since >= r.Until {
		return nil
	}
	left := r.Limit
	if left <= 0 {
		left = math.MaxInt64
	}
	fn = underSchema(snap.Stream.Stored(), fn)
	if len(r.Types) > 0 {
		// Filtering by type happens after the read, so a segment may yield
		// fewer rows than asked: the limit is counted here, on what passes.
		fn = ofTypes(r.Types, &left, fn)
		r.Limit = 0
	}
	for _, seg := range snap.Manifest.Select(r.From, r.To, r.Since, r.Until) {
		limit := left
		if len(r.Types) > 0 {
			limit = math.MaxInt64
		}
		n, err := rd.readSegment(ctx, seg, r, limit, fn)
		if err != nil {
			return err
		}
		if len(r.Types) == 0 {
			left -= n
		}
		if left <= 0 {
			return nil
		}
	}
	for _, b := range snap.Tail {
		if err := ctx.Err(); err != nil {
			return err
		}
		if b.LastID() < r.From || b.FirstID >= r.To || b.TS < r.Since || b.TS >= r.Until {
			continue
		}
		if len(r.Types) > 0 && !slices.Contains(r.Types, b.Event) {
			continue // a batch has one type
		}
		lo := max(r.From-b.FirstID, 0)
		hi := min(r.To-b.FirstID, b.Rows)
		hi = lo + min(hi-lo, left) // lo+left would overflow for an open limit
		rec := b.Record()
		if lo != 0 || hi != b.Rows {
			rec = rec.NewSlice(lo, hi)
			err := fn(rec)
			rec.Release()
			if err != nil {
				return err
			}
		} else if err := fn(rec); err != nil {
			return err
		}
		if len(r.Types) == 0 {
			left -= hi - lo
		}
		if left <= 0 {
			return nil
		}
	}
	return nil
}

// errLimit stops a read once the limit is reached.
var errLimit = errors.New("limit reached")

// ofTypes wraps fn to pass on only the rows whose _event is one of types,
// in runs (slices, no copy), counting them down from *left; at zero it stops
// the read with errLimit, which Read turns into success.
func ofTypes(types []string, left *int64, fn func(arrow.RecordBatch) error) func(arrow.RecordBatch) error {
	return func(rec arrow.RecordBatch) error {
		if *left <= 0 {
			return errLimit
		}
		ev, ok := rec.Column(2).(*array.String)
		if !ok {
			return fmt.Errorf("query: %s is %s, not utf8", rec.Schema().Field(2).Name, rec.Column(2).DataType())
		}
		n := int64(rec.NumRows())
		for i := int64(0); i < n && *left > 0; {
			if !slices.Contains(types, ev.Value(int(i))) {
				i++
				continue
			}
			j := i + 1
			for j < n && j-i < *left && slices.Contains(types, ev.Value(int(j))) {
				j++
			}
			run := rec.NewSlice(i, j)
			err := fn(run)
			run.Release()
			if err != nil {
				return err
			}
			*left -= j - i
			i = j
		}
		return nil
	}
}

func (rd *Reader) readSegment(ctx context.Context, seg manifest.Segment, r Range, limit int64, fn func(arrow.RecordBatch) error) (int64, error) {
	o, err := rd.segs.get(ctx, rd.store, seg)
	if err != nil {
		return 0, err
	}
	recs, err := o.rd.ReadRange(ctx, r.From, r.To, r.Since, r.Until, limit)
	if err != nil {
		// A reader that failed may be in any state: it is not kept.
		o.close()
		return 0, fmt.Errorf("reading segment %s: %w", seg.Key, err)
	}
	rd.segs.put(o)
	var n int64
	var ferr error
	for _, rec := range recs {
		if ferr == nil {
			ferr = fn(rec)
			n += rec.NumRows()
		}
		rec.Release()
	}
	return n, ferr
}

// underSchema wraps fn so that every record reaches it under schema s. A
// segment written by an older build, or read back through Parquet, may label
// nested types differently (field metadata, list item names) from the
// stream's schema, and encoders need one schema per response. Records and
// segments from before an event type added columns lack them: they are
// matched by name and get nulls there.
func underSchema(s *arrow.Schema, fn func(arrow.RecordBatch) error) func(arrow.RecordBatch) error {
	return func(rec arrow.RecordBatch) error {
		out, err := retype.Conform(rec, s, memory.DefaultAllocator)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		defer out.Release()
		return fn(out)
	}
}
