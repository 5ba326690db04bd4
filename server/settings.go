package server

import (
	"strings"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/valyala/fasthttp"
)

// settingsJSON is the body of PUT /_/streams/{account}/{stream}: the whole
// of a stream's settings (fields left out are reset).
type settingsJSON struct {
	Factory       bool             `json:"factory"`
	AccountRights string           `json:"account_rights"`
	Blocklist     engine.Blocklist `json:"blocklist"`
}

// streamJSON is the answer of GET /_/streams/{account}/{stream}.
type streamJSON struct {
	Name          string           `json:"name"`
	Kind          string           `json:"kind"` // "events" or "topic"
	Factory       bool             `json:"factory"`
	AccountRights string           `json:"account_rights"`
	Blocklist     engine.Blocklist `json:"blocklist"`
	NextID        int64            `json:"next_id"`
	Segments      int              `json:"segments"`
	Substreams    *int             `json:"substreams,omitempty"` // factories only
}

// subJSON is one entry of GET /_/streams/{account}/{stream}/substreams.
type subJSON struct {
	Sub      string `json:"sub"` // the canonical literal: _sub
	Path     string `json:"path"`
	NextID   int64  `json:"next_id"`
	Segments int    `json:"segments"`
}

func (s *Server) describeStream(st *engine.Stream) streamJSON {
	set := st.Settings()
	stats := st.Stats()
	out := streamJSON{
		Name: st.Name().String(), Kind: "events", Factory: set.Factory, AccountRights: set.AccountRights,
		Blocklist: set.Blocklist, NextID: stats.NextID, Segments: stats.Segments,
	}
	if st.IsTopic() {
		out.Kind = "topic"
	}
	if out.Blocklist.Referers == nil {
		out.Blocklist.Referers = []string{}
	}
	if out.Blocklist.Arguments == nil {
		out.Blocklist.Arguments = []string{}
	}
	if st.IsFactory() {
		n := len(s.eng.Substreams(st))
		out.Substreams = &n
	}
	return out
}

// streamSettingsAPI serves (the admin key was checked):
//
//	PUT /_/streams/{account}/{stream}             settings; creates an event stream
//	GET /_/streams/{account}/{stream}             settings and counters
//	GET /_/streams/{account}/{stream}/substreams  a factory's substreams
func (s *Server) streamSettingsAPI(ctx *fasthttp.RequestCtx, p, m string) {
	rest := strings.TrimPrefix(p, "streams/")
	rest, subs := strings.CutSuffix(rest, "/substreams")
	name, err := base.ParseStreamName(rest)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	switch {
	case m == fasthttp.MethodPut && !subs:
		var req settingsJSON
		if err := decodeBody(ctx, &req, `stream settings: body must be JSON {"factory", "account_rights", "blocklist": {"referers", "arguments"}}`); err != nil {
			s.writeError(ctx, err)
			return
		}
		set, err := StreamSettings(req.Factory, req.AccountRights, req.Blocklist)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		st, created, err := s.eng.SetSettings(ctx, name, set)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		code := fasthttp.StatusOK
		if created {
			code = fasthttp.StatusCreated
		}
		writeJSON(ctx, code, s.describeStream(st))
	case m == fasthttp.MethodGet:
		st, err := s.eng.Stream(name)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		if !subs {
			writeJSON(ctx, fasthttp.StatusOK, s.describeStream(st))
			return
		}
		if !st.IsFactory() {
			s.writeError(ctx, base.Errorf(base.ErrNotFound, "stream %s is not a stream factory: it has no substreams", name))
			return
		}
		out := []subJSON{}
		for _, sub := range s.eng.Substreams(st) {
			stats := sub.Stats()
			out = append(out, subJSON{Sub: sub.Sub(), Path: "/" + sub.Label(), NextID: stats.NextID, Segments: stats.Segments})
		}
		writeJSON(ctx, fasthttp.StatusOK, out)
	default:
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "no admin endpoint %s /_/%s", m, p))
	}
}

// StreamSettings checks and normalises settings as the admin API and the
// config give them: account_rights is any of "r" and "w", blocklists as
// NormalizeBlocklist makes them.
func StreamSettings(factory bool, accountRights string, bl engine.Blocklist) (engine.Settings, error) {
	set := engine.Settings{Factory: factory}
	for _, r := range accountRights {
		if r != 'r' && r != 'w' {
			return set, base.Errorf(base.ErrInvalid, "account_rights %q: want any of r and w", accountRights)
		}
	}
	if accountRights != "" && !factory {
		return set, base.Errorf(base.ErrInvalid, "account_rights needs factory: true (it opens account substreams /a/s(account))")
	}
	set.AccountRights = accountRights
	var err error
	set.Blocklist, err = NormalizeBlocklist(bl)
	return set, err
}
