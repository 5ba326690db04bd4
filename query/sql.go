package query

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/internal/retype"
	"github.com/ducktail/ducktail/query/sqlengine"
	"github.com/ducktail/ducktail/storage"
)

// localPather returns how to get a local file of a segment for DuckDB: a
// store with a cache of remote objects (S3) fetches it, a local store names
// it.
func localPather(st storage.Store) (func(context.Context, string) (string, error), error) {
	if c, ok := st.(interface {
		LocalPath(ctx context.Context, key string) (string, error)
	}); ok {
		return c.LocalPath, nil
	}
	if p, ok := st.(storage.Pather); ok {
		return func(_ context.Context, key string) (string, error) { return p.Path(key), nil }, nil
	}
	return nil, base.Errorf(base.ErrUnsupported, "sql: the segment store has no local files")
}

// SQL runs DuckDB SQL over an engine's streams: the admin's queries in one
// database holding every stream's view, an API key's in a database of its
// scope (scoped.go).
type SQL struct {
	eng    *engine.Engine
	db     *sqlengine.Engine
	scoped scopes
}

// NewSQL returns SQL over eng, using db for execution.
func NewSQL(eng *engine.Engine, db *sqlengine.Engine) *SQL {
	return &SQL{eng: eng, db: db, scoped: scopes{base: db}}
}

// SetMaxScoped sets how many scoped databases stay open (default
// DefaultMaxScoped), closing the least recently used over it.
func (s *SQL) SetMaxScoped(n int) {
	s.scoped.mu.Lock()
	defer s.scoped.mu.Unlock()
	s.scoped.max = n
	s.scoped.evictLocked()
}

// OpenScoped returns how many scoped databases are open.
func (s *SQL) OpenScoped() int { return s.scoped.open() }

// Close closes the scoped databases (those in use when their results are
// released). The database given to NewSQL is the caller's to close.
func (s *SQL) Close() { s.scoped.close() }

// Query runs q over the streams allowed by visible (nil: every stream). The
// caller must Release the result.
func (s *SQL) Query(ctx context.Context, q string, visible func(base.StreamName) bool) (*sqlengine.Result, error) {
	views, release, err := s.views(ctx, visible, nil)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.db.Query(ctx, views, q)
}

// QueryScoped runs q as a key whose reads are limited to sc: in a database
// that holds only sc's views and may read files only in sc's segment
// directory, so other accounts' streams do not exist for q (a query naming
// one fails as an unknown table, base.ErrInvalid). The caller must Release
// the result.
func (s *SQL) QueryScoped(ctx context.Context, q string, sc Scope) (*sqlengine.Result, error) {
	if err := base.ValidateAccount(sc.Account); err != nil {
		return nil, err
	}
	d, err := s.scoped.acquire(sc)
	if err != nil {
		return nil, err
	}
	dir := sc.dir(s.db.Options().DataDir)
	views, release, err := s.views(ctx, sc.visible, func(v *sqlengine.View) error { return checkFiles(sc, dir, v.Files) })
	if err != nil {
		s.scoped.release(d)
		return nil, err
	}
	defer release()
	res, err := d.db.Query(ctx, views, q)
	if err != nil {
		s.scoped.release(d)
		return nil, err
	}
	res.AfterRelease(func() { s.scoped.release(d) })
	return res, nil
}

// views returns the views of the streams visible allows (nil: all), each
// passed to check if not nil, and a function releasing what they hold,
// which the caller calls once the query has copied the tails.
func (s *SQL) views(ctx context.Context, visible func(base.StreamName) bool, check func(*sqlengine.View) error) ([]sqlengine.View, func(), error) {
	localPath, err := localPather(s.eng.Store())
	if err != nil {
		return nil, nil, err
	}
	var views []sqlengine.View
	h := &held{}
	for _, st := range s.eng.Streams() {
		if visible != nil && !visible(st.Name()) {
			continue
		}
		var vs []sqlengine.View
		if st.IsFactory() {
			vs, err = s.factoryViews(ctx, st, localPath, h) // subviews.go
		} else {
			var v sqlengine.View
			v, err = s.view(ctx, st, st.Name().Name, localPath, h)
			vs = []sqlengine.View{v}
		}
		for i := range vs {
			if err == nil && check != nil {
				err = check(&vs[i])
			}
		}
		if err != nil {
			h.release()
			return nil, nil, err
		}
		views = append(views, vs...)
	}
	return views, h.release, nil
}

// held are the snapshots and conformed tail records a query's views use,
// released when the query is done.
type held struct {
	snaps     []*engine.Snapshot
	conformed []arrow.RecordBatch
}

func (h *held) release() {
	for _, r := range h.conformed {
		r.Release()
	}
	for _, snap := range h.snaps {
		snap.Release()
	}
}

// view makes the view name of st's account over a snapshot of st: its
// segments and its unflushed tail.
func (s *SQL) view(ctx context.Context, st *engine.Stream, name string, localPath func(context.Context, string) (string, error), h *held) (sqlengine.View, error) {
	snap := st.Snapshot()
	h.snaps = append(h.snaps, snap)
	v := sqlengine.View{Account: st.Name().Account, Name: name, Schema: st.Stored()}
	for _, seg := range snap.Manifest.Segments {
		p, err := localPath(ctx, seg.Key)
		if err != nil {
			return v, fmt.Errorf("sql: segment %s: %w", seg.Key, err)
		}
		v.Files = append(v.Files, p)
	}
	for _, b := range snap.Tail {
		// A batch from before an event type added columns, or of one
		// type, lacks some of the view's columns: nulls there.
		rec, err := retype.Conform(b.Record(), v.Schema, memory.DefaultAllocator)
		if err != nil {
			return v, fmt.Errorf("sql: %s: %w", st.Label(), err)
		}
		h.conformed = append(h.conformed, rec)
		v.Tail = append(v.Tail, sqlengine.TailBatch{FirstID: b.FirstID, Rec: rec})
	}
	tail, err := mergeSmall(v.Tail, h)
	if err != nil {
		return v, fmt.Errorf("sql: %s: %w", st.Label(), err)
	}
	v.Tail = tail
	return v, nil
}

// Tail batches smaller than mergeBelowRows (a stream of single events has
// a batch per event) are merged into records of up to mergeMaxRows before
// DuckDB copies them in: it pays per record, about 0.4 ms.
const (
	mergeBelowRows = 1024
	mergeMaxRows   = 64 << 10
)

// mergeSmall returns tail with runs of small batches merged; merged
// records are held by h.
func mergeSmall(tail []sqlengine.TailBatch, h *held) ([]sqlengine.TailBatch, error) {
	out := tail[:0:0]
	for i := 0; i < len(tail); {
		j, rows := i, int64(0)
		for j < len(tail) && tail[j].Rec.NumRows() < mergeBelowRows && rows < mergeMaxRows {
			rows += tail[j].Rec.NumRows()
			j++
		}
		if j <= i+1 {
			out = append(out, tail[i])
			i++
			continue
		}
		recs := make([]arrow.RecordBatch, j-i)
		for k := range recs {
			recs[k] = tail[i+k].Rec
		}
		merged, err := retype.Concat(recs, memory.DefaultAllocator)
		if err != nil {
			return nil, err
		}
		h.conformed = append(h.conformed, merged)
		out = append(out, sqlengine.TailBatch{FirstID: tail[i].FirstID, Rec: merged})
		i = j
	}
	return out, nil
}
