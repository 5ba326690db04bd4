package query

import (
	"context"
	"fmt"

	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query/sqlengine"
)

// factoryViews returns the views of a stream factory: one per substream,
// named "{account}"."{stream}({literal})" (its segments and tail, with its
// own dense ids), then "{account}"."{stream}", the union of them all, whose
// _sub column tells the substreams apart. The caller releases the
// snapshots, also on error.
func (s *SQL) factoryViews(ctx context.Context, f *engine.Stream, localPath func(context.Context, string) (string, error)) ([]sqlengine.View, []*engine.Snapshot, error) {
	var views []sqlengine.View
	var snaps []*engine.Snapshot
	union := sqlengine.View{Account: f.Name().Account, Name: f.Name().Name, Schema: f.Stored()}
	for _, sub := range s.eng.Substreams(f) {
		snap := sub.Snapshot()
		snaps = append(snaps, snap)
		v := sqlengine.View{Account: f.Name().Account, Name: f.Name().Name + "(" + sub.Sub() + ")", Schema: sub.Stored()}
		for _, seg := range snap.Manifest.Segments {
			p, err := localPath(ctx, seg.Key)
			if err != nil {
				return nil, snaps, fmt.Errorf("sql: segment %s: %w", seg.Key, err)
			}
			v.Files = append(v.Files, p)
		}
		for _, b := range snap.Tail {
			v.Tail = append(v.Tail, sqlengine.TailBatch{FirstID: b.FirstID, Rec: b.Record()})
		}
		views = append(views, v)
		union.Parts = append(union.Parts, v.Name)
	}
	return append(views, union), snaps, nil
}
