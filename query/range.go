package query

import (
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/segment"
)

// Range selects events: ids in [From, To) and timestamps in [Since, Until),
// at most Limit of them (0: no limit). Use AllRange for open ends.
type Range struct {
	From, To     int64
	Since, Until int64
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
	if r.From >= r.To || r.Since >= r.Until {
		return nil
	}
	left := r.Limit
	if left <= 0 {
		left = math.MaxInt64
	}
	for _, seg := range snap.Manifest.Select(r.From, r.To, r.Since, r.Until) {
		n, err := readSegment(ctx, store, seg.Key, r, left, fn)
		if err != nil {
			return err
		}
		if left -= n; left <= 0 {
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
		lo := max(r.From-b.FirstID, 0)
		hi := min(r.To-b.FirstID, b.Rows)
		hi = min(hi, lo+left)
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
		if left -= hi - lo; left <= 0 {
			return nil
		}
	}
	return nil
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
