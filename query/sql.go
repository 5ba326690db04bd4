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

// SQL runs DuckDB SQL over an engine's streams.
type SQL struct {
	eng *engine.Engine
	db  *sqlengine.Engine
}

// NewSQL returns SQL over eng, using db for execution.
func NewSQL(eng *engine.Engine, db *sqlengine.Engine) *SQL { return &SQL{eng: eng, db: db} }

// Query runs q over the streams allowed by visible (nil: every stream). The
// caller must Release the result.
func (s *SQL) Query(ctx context.Context, q string, visible func(base.StreamName) bool) (*sqlengine.Result, error) {
	localPath, err := localPather(s.eng.Store())
	if err != nil {
		return nil, err
	}
	var views []sqlengine.View
	var h held
	defer h.release()
	for _, st := range s.eng.Streams() {
		if visible != nil && !visible(st.Name()) {
			continue
		}
		if st.IsFactory() {
			vs, err := s.factoryViews(ctx, st, localPath, &h) // subviews.go
			if err != nil {
				return nil, err
			}
			views = append(views, vs...)
			continue
		}
		v, err := s.view(ctx, st, st.Name().Name, localPath, &h)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return s.db.Query(ctx, views, q)
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
	return v, nil
}
