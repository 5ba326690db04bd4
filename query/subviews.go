package query

import (
	"context"
	"strings"

	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query/sqlengine"
)

// factoryViews returns the views of a stream factory: one per substream,
// named "{account}"."{stream}({literal})" (its segments and tail, with its
// own dense ids; see subViewName), then "{account}"."{stream}", the union
// of them all, whose _sub column tells the substreams apart. What the views
// hold goes in h.
func (s *SQL) factoryViews(ctx context.Context, f *engine.Stream, localPath func(context.Context, string) (string, error), h *held) ([]sqlengine.View, error) {
	var views []sqlengine.View
	union := sqlengine.View{Account: f.Name().Account, Name: f.Name().Name, Schema: f.Stored()}
	for _, sub := range s.eng.Substreams(f) {
		v, err := s.view(ctx, sub, subViewName(f.Name().Name, sub.Sub()), localPath, h)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
		union.Parts = append(union.Parts, v.Name)
	}
	return append(views, union), nil
}

// subViewName names the view of the substream whose canonical literal is
// lit: stream(lit), with each ASCII upper-case letter written as a \xHH
// escape, so ('A') is viewed as "s('\x41')". DuckDB matches identifiers
// without regard to ASCII case, even quoted ones, so "s('A')" and "s('a')"
// would be one view. The escape is another spelling of the same
// JavaScript string, and canonical literals write their own escapes in
// lower case, so no two substreams share a name.
func subViewName(stream, lit string) string {
	var b strings.Builder
	b.Grow(len(stream) + len(lit) + 2)
	b.WriteString(stream)
	b.WriteByte('(')
	const hex = "0123456789abcdef"
	for i := 0; i < len(lit); i++ {
		if c := lit[i]; c >= 'A' && c <= 'Z' {
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteByte(')')
	return b.String()
}
