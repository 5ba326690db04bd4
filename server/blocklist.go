package server

import (
	"net/url"
	"slices"
	"strings"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server/path"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// newDiscardCounter makes the counter of writes a blocklist discarded.
func newDiscardCounter(reg *prometheus.Registry) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ducktail_blocked_writes_total",
		Help: "Writes discarded by a stream's blocklist, by what matched (referer, argument).",
	}, []string{"reason"})
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

// discardBlocked answers a write that the stream's blocklists match with
// 202 Accepted and the body null, storing nothing: a spammer learns
// nothing, and a browser beacon is not retried. It reports whether it
// answered. Reads are never blocked.
func (s *Server) discardBlocked(ctx *fasthttp.RequestCtx, name base.StreamName, sub *path.Arg) bool {
	st, err := s.eng.Stream(name)
	if err != nil {
		return false // a new stream has no blocklist yet
	}
	bl := st.Settings().Blocklist
	reason := ""
	switch {
	case sub != nil && len(bl.Arguments) > 0 && slices.Contains(bl.Arguments, sub.Canonical()):
		reason = "argument"
	case len(bl.Referers) > 0 && refererBlocked(bl.Referers, referer(ctx)):
		reason = "referer"
	default:
		return false
	}
	s.discarded.WithLabelValues(reason).Inc()
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	ctx.SetContentType("application/json")
	ctx.SetBodyString("null")
	return true
}

// referer is the request's Referer, else its Origin (which a browser sends
// when its referrer policy withholds the Referer).
func referer(ctx *fasthttp.RequestCtx) string {
	if r := ctx.Request.Header.Peek("Referer"); len(r) > 0 {
		return string(r)
	}
	return string(ctx.Request.Header.Peek("Origin"))
}

// refererBlocked reports whether ref matches an entry: an entry holding
// '/' or ':' matches as a substring of the Referer, any other as a host,
// equal to the Referer's host or a parent domain of it. Case does not
// matter. An empty or unparsable Referer matches host entries never.
func refererBlocked(entries []string, ref string) bool {
	if ref == "" {
		return false
	}
	lower := strings.ToLower(ref)
	host := ""
	if u, err := url.Parse(lower); err == nil {
		host = strings.TrimSuffix(u.Hostname(), ".")
	}
	for _, e := range entries {
		if strings.ContainsAny(e, "/:") {
			if strings.Contains(lower, e) {
				return true
			}
			continue
		}
		if host != "" && (host == e || strings.HasSuffix(host, "."+e)) {
			return true
		}
	}
	return false
}

// NormalizeBlocklist checks and normalises a blocklist as the admin API and
// the config give it: referer entries trimmed and lower-cased, arguments
// turned into their canonical literals (so ("a") blocks ('a')), duplicates
// dropped.
func NormalizeBlocklist(bl engine.Blocklist) (engine.Blocklist, error) {
	var out engine.Blocklist
	for i, r := range bl.Referers {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" {
			return out, base.Errorf(base.ErrInvalid, "blocklist.referers[%d] is empty", i)
		}
		if !slices.Contains(out.Referers, r) {
			out.Referers = append(out.Referers, r)
		}
	}
	for i, a := range bl.Arguments {
		p, err := path.Parse("/x/x(" + a + ")")
		if err != nil || p.Sub == nil || p.Type != "" || p.Index >= 0 || len(p.Chain) > 0 || p.Suffix != "" || p.Logs || p.Pipe != nil {
			return out, base.Errorf(base.ErrInvalid,
				"blocklist.arguments[%d] %q: want a JavaScript literal ('text', 42, true, null) or an account name", i, a)
		}
		if c := p.Sub.Canonical(); !slices.Contains(out.Arguments, c) {
			out.Arguments = append(out.Arguments, c)
		}
	}
	return out, nil
}
