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
	var snaps []*engine.Snapshot
	var conformed []arrow.RecordBatch
	defer func() {
		for _, r := range conformed {
			r.Release()
		}
		for _, snap := range snaps {
			snap.Release()
		}
	}()
	for _, st := range s.eng.Streams() {
		if visible != nil && !visible(st.Name()) {
			continue
		}
		snap := st.Snapshot()
		snaps = append(snaps, snap)
		v := sqlengine.View{Account: st.Name().Account, Name: st.Name().Name, Schema: st.Stored()}
		for _, seg := range snap.Manifest.Segments {
			p, err := localPath(ctx, seg.Key)
			if err != nil {
				return nil, fmt.Errorf("sql: segment %s: %w", seg.Key, err)
			}
			v.Files = append(v.Files, p)
		}
		for _, b := range snap.Tail {
			// A batch from before an event type added columns, or of one
			// type, lacks some of the view's columns: nulls there.
			rec, err := retype.Conform(b.Record(), v.Schema, memory.DefaultAllocator)
			if err != nil {
				return nil, fmt.Errorf("sql: %s: %w", st.Label(), err)
			}
			conformed = append(conformed, rec)
			v.Tail = append(v.Tail, sqlengine.TailBatch{FirstID: b.FirstID, Rec: rec})
		}
		views = append(views, v)
	}
	return s.db.Query(ctx, views, q)
}
