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
	"github.com/ducktail/ducktail/internal/retype"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/segment"
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

// Read calls fn with the records of snap that fall in r, in id order. The
// records have the stream's stored schema; they are valid only during the
// call.
func Read(ctx context.Context, store storage.Store, snap *engine.Snapshot, r Range, fn func(arrow.RecordBatch) error) error {
	if err := read(ctx, store, snap, r, fn); err != nil && !errors.Is(err, errLimit) {
		return err
	}
	return nil
}

func read(ctx context.Context, store storage.Store, snap *engine.Snapshot, r Range, fn func(arrow.RecordBatch) error) error {
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
		n, err := readSegment(ctx, store, seg.Key, r, limit, fn)
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

func readSegment(ctx context.Context, store storage.Store, key string, r Range, limit int64, fn func(arrow.RecordBatch) error) (int64, error) {
	obj, err := store.Open(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("opening segment %s: %w", key, err)
	}
	defer obj.Close()
	rd, err := segment.Open(obj, obj.Size(), memory.DefaultAllocator)
	if err != nil {
		return 0, fmt.Errorf("reading segment %s: %w", key, err)
	}
	defer rd.Close()
	recs, err := rd.ReadRange(ctx, r.From, r.To, r.Since, r.Until, limit)
	if err != nil {
		return 0, fmt.Errorf("reading segment %s: %w", key, err)
	}
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
