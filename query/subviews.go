package query

import (
	"context"

	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query/sqlengine"
)

// factoryViews returns the views of a stream factory: one per substream,
// named "{account}"."{stream}({literal})" (its segments and tail, with its
// own dense ids), then "{account}"."{stream}", the union of them all, whose
// _sub column tells the substreams apart. What the views hold goes in h.
func (s *SQL) factoryViews(ctx context.Context, f *engine.Stream, localPath func(context.Context, string) (string, error), h *held) ([]sqlengine.View, error) {
	var views []sqlengine.View
	union := sqlengine.View{Account: f.Name().Account, Name: f.Name().Name, Schema: f.Stored()}
	for _, sub := range s.eng.Substreams(f) {
		v, err := s.view(ctx, sub, f.Name().Name+"("+sub.Sub()+")", localPath, h)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
		union.Parts = append(union.Parts, v.Name)
	}
	return append(views, union), nil
}
