package server

import (
	"errors"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server/access"
	"github.com/ducktail/ducktail/server/path"
	"github.com/valyala/fasthttp"
)

// subArg maps a parsed substream argument to the engine's: its canonical
// literal (the _sub value) and its storage key.
func subArg(a *path.Arg) engine.SubArg {
	return engine.SubArg{Literal: a.Canonical(), Key: a.SubKey()}
}

// writeTarget looks up what a write to name (with the path's substream
// argument sub, nil if none) goes to, without making anything: st is the
// stream, nil when the write would make it (a plain stream comes into
// existence at its first write, a substream at its first write to an
// existing factory); types is the stream whose event types apply (st, or
// for a substream not made yet its factory; nil for a new plain stream). A
// factory without an argument is a 400, an argument on a stream that is not
// a factory (or does not exist) a 404.
func (s *Server) writeTarget(ctx *fasthttp.RequestCtx, name base.StreamName, sub *path.Arg) (st, types *engine.Stream, err error) {
	f, err := s.eng.Stream(name)
	if sub == nil {
		if err != nil {
			return nil, nil, nil
		}
		if f.IsFactory() {
			return nil, nil, needsArgument(name)
		}
		return f, f, nil
	}
	if err != nil {
		if name.Account == base.ReservedAccount {
			return nil, nil, base.Errorf(base.ErrNotFound,
				"stream %s does not exist: account %q is reserved for built-in streams, which are not served yet", name, name.Account)
		}
		return nil, nil, base.Errorf(base.ErrNotFound,
			"stream %s does not exist: a substream %s(%s) needs a stream factory, declared through PUT /_/streams/%s or the config",
			name, name, sub.Canonical(), name)
	}
	st, err = s.eng.Substream(ctx, f, subArg(sub), false)
	switch {
	case err == nil:
		return st, st, nil
	case f.IsFactory() && errors.Is(err, base.ErrNotFound):
		return nil, f, nil
	}
	return nil, nil, err
}

// makeStream makes the stream of a first write that writeTarget found
// missing: the plain stream name, or the substream sub of factory.
func (s *Server) makeStream(ctx *fasthttp.RequestCtx, name base.StreamName, sub *path.Arg, factory *engine.Stream) (*engine.Stream, error) {
	if sub == nil {
		return s.eng.CreateEventStream(ctx, name)
	}
	return s.eng.Substream(ctx, factory, subArg(sub), true)
}

// readStream returns the stream a read of name (with sub) reads: as
// writeTarget, but a stream not made yet is an error, so a substream never written to is
// a 404 like a stream never written to.
func (s *Server) readStream(ctx *fasthttp.RequestCtx, name base.StreamName, sub *path.Arg) (*engine.Stream, error) {
	st, err := s.eng.Stream(name)
	if err != nil {
		return nil, err
	}
	if sub == nil {
		if st.IsFactory() {
			return nil, needsArgument(name)
		}
		return st, nil
	}
	return s.eng.Substream(ctx, st, subArg(sub), false)
}

func needsArgument(name base.StreamName) error {
	return base.Errorf(base.ErrInvalid,
		"stream %s is a stream factory: name a substream with an argument, such as /%s('arg') or /%s(42); SQL sees all of them as \"%s\".\"%s\"",
		name, name, name, name.Account, name.Name)
}

// authorizePath is authorize for a stream path: besides every credential
// authorize takes for the stream (or the factory of a substream), an
// account substream /a/s(bob) of a factory whose account_rights hold r is
// open to bob's account-wide API keys.
func (s *Server) authorizePath(ctx *fasthttp.RequestCtx, p *path.Path, name base.StreamName, r access.Right) bool {
	return s.authorizeAs(ctx, subAccount(p), name, r)
}

// subAccount is the account an account substream's path names, or "".
func subAccount(p *path.Path) string {
	if p.Sub == nil || p.Sub.Kind != path.Account {
		return ""
	}
	account, _ := p.Sub.Value.(string)
	return account
}

// parsePath parses the request's stream path as it was sent: the parser
// percent-decodes it once, and ctx.Path() is decoded already (so %2541 would
// have become A, not %41).
func parsePath(ctx *fasthttp.RequestCtx) (*path.Path, error) {
	return path.Parse(string(ctx.URI().PathOriginal()))
}
