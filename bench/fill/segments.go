package main

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/ducktail/ducktail/storage/segment"
)

// recRows is the number of rows of each record handed to segment.Write.
const recRows = 64 << 10

// direct is what writeSegments needs to know about a stream the engine
// created: where its objects live and the schema of its segments.
type direct struct {
	prefix string
	stored *arrow.Schema
	label  string
}

// writeSegments appends segments of at most segRows events to the stream
// until it holds n events, as the engine's flush does (storage/segment
// Write, then a manifest commit per segment), but from large records: the
// engine's own flush of events that arrived one row per batch costs tens
// of microseconds a row, too slow for 10^7 rows in a benchmark. It must run
// while no engine has the data dir open.
func writeSegments(ctx context.Context, store storage.Store, d direct, n, segRows int64, size int) (int64, error) {
	m, err := manifest.Load(ctx, store, d.prefix)
	if err != nil {
		return 0, fmt.Errorf("loading the manifest: %w", err)
	}
	if m == nil {
		m = &manifest.Manifest{Stream: d.label}
	}
	next, ts := m.NextID(), m.LastTS()
	written := int64(0)
	for next < n {
		k := min(segRows, n-next)
		recs, lastTS, err := buildRecords(d.stored, next, k, ts, size)
		if err != nil {
			return written, err
		}
		key := fmt.Sprintf("%s%020d-%020d.parquet", d.prefix, next, next+k-1)
		info, err := writeSegment(ctx, store, key, d.stored, recs)
		for _, r := range recs {
			r.Release()
		}
		if err != nil {
			return written, err
		}
		nm := &manifest.Manifest{Version: m.Version, Stream: m.Stream, Trimmed: m.Trimmed, TrimmedTS: m.TrimmedTS,
			Segments: append(append([]manifest.Segment(nil), m.Segments...), manifest.Segment{
				Key: key, FirstID: info.FirstID, LastID: info.LastID, MinTS: info.MinTS, MaxTS: info.MaxTS,
				Rows: info.Rows, Bytes: info.Bytes, CRC32C: info.CRC32C,
			})}
		if m, err = manifest.Commit(ctx, store, d.prefix, nm); err != nil {
			return written, fmt.Errorf("committing the manifest: %w", err)
		}
		next, ts = next+k, lastTS
		written += k
	}
	return written, nil
}

func writeSegment(ctx context.Context, store storage.Store, key string, s *arrow.Schema, recs []arrow.RecordBatch) (segment.Info, error) {
	w, err := store.Create(ctx, key)
	if err != nil {
		return segment.Info{}, fmt.Errorf("creating %s: %w", key, err)
	}
	info, err := segment.Write(w, s, recs, segment.WriterOptions{})
	if err != nil {
		w.Abort()
		return segment.Info{}, fmt.Errorf("writing %s: %w", key, err)
	}
	if err := w.Commit(); err != nil {
		return segment.Info{}, fmt.Errorf("committing %s: %w", key, err)
	}
	return info, nil
}

// buildRecords makes events first..first+n-1 with the stored schema s of an
// event stream: type "bench", application/json data as eventJSON, and
// timestamps from ts on, one millisecond more every 100 events (events
// arriving at 100,000/s). It returns the records and the last timestamp.
func buildRecords(s *arrow.Schema, first, n, ts int64, size int) ([]arrow.RecordBatch, int64, error) {
	mem := memory.DefaultAllocator
	var recs []arrow.RecordBatch
	release := func() {
		for _, r := range recs {
			r.Release()
		}
	}
	last := ts
	for lo := int64(0); lo < n; lo += recRows {
		k := min(int64(recRows), n-lo)
		b := array.NewRecordBuilder(mem, s)
		for i, f := range s.Fields() {
			fb := b.Field(i)
			fb.Reserve(int(k))
			for j := range k {
				id := first + lo + j
				switch f.Name {
				case base.ColID:
					fb.(*array.Int64Builder).Append(id)
				case base.ColTS:
					last = ts + (id-first+1)/100
					fb.(*array.TimestampBuilder).Append(arrow.Timestamp(last))
				case base.ColEvent:
					fb.(*array.StringBuilder).Append("bench")
				case base.ColContentType:
					fb.(*array.StringBuilder).Append("application/json")
				case base.ColData:
					fb.(*array.BinaryBuilder).Append(eventJSON(id, size))
				default:
					if !f.Nullable {
						b.Release()
						release()
						return nil, 0, fmt.Errorf("stored column %s is not one of an event stream's", f.Name)
					}
					fb.AppendNull()
				}
			}
		}
		recs = append(recs, b.NewRecordBatch())
		b.Release()
	}
	return recs, last, nil
}
