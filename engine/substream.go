package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/manifest"
)

// A stream FACTORY (SPEC 1) takes one argument per substream:
// /{account}/{stream}(arg). A substream is a Stream of its own, made on
// demand from its factory: its own dense ids from 0, its own _ts order, WAL
// records, buffer, manifest and segments, under the object prefix
// streams/{account}/{stream}/sub={key}/. It shares its factory's kind,
// schema, retention and rate limit settings (with buckets of its own) and
// its factory's metric series, and sets _sub to its argument.
//
// Substreams are not listed in the catalog, which would then be rewritten
// (and copied to S3) at every new argument: each one has a marker object
// streams/{account}/{stream}/_subs/{key}, written before its first WAL
// record, and Open lists the markers of every factory. The marker's name is
// the key, which percent-decodes to the canonical literal, so no marker is
// read. The WAL names a substream by its label, "account/stream(literal)".

// subsDir is the folder of a factory's substream markers.
const subsDir = "_subs/"

// Settings are a stream's persisted settings, set through the admin API or
// the config and kept in the catalog.
type Settings struct {
	// Factory makes the stream a stream factory: writes and reads need a
	// substream argument.
	Factory bool `json:"factory,omitempty"`
	// AccountRights are the rights ("r", "w", "rw") that an account's own
	// account-wide API keys get on the account substream /a/s(account) of
	// this factory: a factory granting access to account substreams en
	// masse (SPEC 1). "" grants nothing.
	AccountRights string `json:"account_rights,omitempty"`
	// Blocklist discards matching writes.
	Blocklist Blocklist `json:"blocklist"`
}

// Blocklist lists writes a stream discards (SPEC 4.2). The engine only
// keeps it; the server matches requests against it.
type Blocklist struct {
	// Referers are hosts (matching the Referer's host or a subdomain of
	// it) or, when they hold a '/' or ':', substrings of the Referer.
	Referers []string `json:"referers,omitempty"`
	// Arguments are canonical literals of factory arguments.
	Arguments []string `json:"arguments,omitempty"`
}

func (s Settings) isZero() bool {
	return !s.Factory && s.AccountRights == "" && len(s.Blocklist.Referers) == 0 && len(s.Blocklist.Arguments) == 0
}

// SubArg names a substream: its argument's canonical literal and the
// storage key of that literal (server/path: Arg.Canonical and Arg.SubKey).
// The key must percent-decode to the literal.
type SubArg struct {
	Literal string // the _sub value: 'text', 42, true, null or an account name
	Key     string // the folder name after "sub="
}

// subState is what a Stream holds about factories and substreams.
type subState struct {
	settings atomic.Pointer[Settings] // never nil

	// Of a substream: its factory and argument. parent is nil otherwise.
	parent *Stream
	sub    string // the canonical literal: _sub
	subKey string

	// Of a factory: its substreams by canonical literal.
	subMu sync.Mutex
	subs  map[string]*Stream
}

func (s *Stream) initSubState(def *Settings) {
	set := &Settings{}
	if def != nil {
		*set = *def
	}
	s.settings.Store(set)
	s.subs = make(map[string]*Stream)
}

// settingsDef returns the settings as the catalog keeps them: nil if unset.
func (s *Stream) settingsDef() *Settings {
	if set := s.settings.Load(); !set.isZero() {
		return set
	}
	return nil
}

// Settings returns the stream's settings (a substream's are its factory's).
// The caller must not modify them.
func (s *Stream) Settings() *Settings {
	if s.parent != nil {
		return s.parent.Settings()
	}
	return s.settings.Load()
}

// IsFactory reports whether the stream is a stream factory.
func (s *Stream) IsFactory() bool { return s.parent == nil && s.settings.Load().Factory }

// Factory returns a substream's factory, nil for any other stream.
func (s *Stream) Factory() *Stream { return s.parent }

// Sub returns a substream's argument (its canonical literal, the _sub of its
// rows), "" for any other stream.
func (s *Stream) Sub() string { return s.sub }

// substreams returns a factory's substreams, sorted by label.
func (s *Stream) substreams() []*Stream {
	s.subMu.Lock()
	out := make([]*Stream, 0, len(s.subs))
	for _, sub := range s.subs {
		out = append(out, sub)
	}
	s.subMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out
}

// Substreams returns the factory's substreams, sorted by label (the
// argument's canonical literal).
func (e *Engine) Substreams(factory *Stream) []*Stream { return factory.substreams() }

// allStreams returns every stream and every substream: what flushes,
// retention and WAL truncation go through.
func (e *Engine) allStreams() []*Stream {
	top := e.Streams()
	out := top
	for _, st := range top {
		if st.IsFactory() {
			out = append(out, st.substreams()...)
		}
	}
	return out
}

// Substream returns the factory's substream for arg. If it does not exist
// it is made when create is set (and the engine is writable), and is an
// ErrNotFound otherwise. A stream that is not a factory is an ErrNotFound.
func (e *Engine) Substream(ctx context.Context, factory *Stream, arg SubArg, create bool) (*Stream, error) {
	if !factory.IsFactory() {
		return nil, base.Errorf(base.ErrNotFound, "stream %s is not a stream factory, so %s(%s) does not exist", factory.label, factory.label, arg.Literal)
	}
	if err := checkSubArg(factory, arg); err != nil {
		return nil, err
	}
	factory.subMu.Lock()
	st := factory.subs[arg.Literal]
	factory.subMu.Unlock()
	if st != nil {
		return st, nil
	}
	if !create {
		return nil, base.Errorf(base.ErrNotFound, "substream %s(%s) does not exist", factory.label, arg.Literal)
	}
	factory.subMu.Lock()
	n := len(factory.subs)
	factory.subMu.Unlock()
	if n >= e.opts.MaxSubstreams {
		return nil, base.Errorf(base.ErrForbidden, "stream factory %s has %d substreams, its limit (max_substreams): %s(%s) is not made",
			factory.label, n, factory.label, arg.Literal)
	}
	if e.opts.ReadOnly {
		return nil, base.Errorf(base.ErrForbidden, "engine: opened read-only")
	}
	if e.isClosed() {
		return nil, base.Errorf(base.ErrClosed, "engine: closed")
	}
	// The marker is durable before the substream takes its first write, so
	// that a restart knows it before the WAL names it.
	if err := e.store.PutIfAbsent(ctx, factory.prefix+subsDir+arg.Key, []byte(arg.Literal+"\n")); err != nil && !errors.Is(err, storage.ErrExists) {
		return nil, err
	}
	made, err := e.newSubstream(ctx, factory, arg)
	if err != nil {
		return nil, err
	}
	factory.subMu.Lock()
	defer factory.subMu.Unlock()
	if st := factory.subs[arg.Literal]; st != nil {
		return st, nil // a concurrent first write made it first
	}
	factory.subs[arg.Literal] = made
	return made, nil
}

// checkSubArg checks that the key is one folder name and decodes to the
// literal, so that discovery (which reads only keys) finds the same
// substream again.
func checkSubArg(factory *Stream, arg SubArg) error {
	if arg.Literal == "" || arg.Key == "" || strings.Contains(arg.Key, "/") {
		return base.Errorf(base.ErrInvalid, "substream argument %q (key %q) is not valid", arg.Literal, arg.Key)
	}
	if lit, err := url.PathUnescape(arg.Key); err != nil || lit != arg.Literal {
		return base.Errorf(base.ErrInvalid, "substream key %q does not decode to the argument %q", arg.Key, arg.Literal)
	}
	return storage.CheckPrefix(factory.prefix + "sub=" + arg.Key + "/")
}

// newSubstream builds the factory's substream for arg and loads its
// manifest. REQUIRES: the factory's kind and schema do not change.
func (e *Engine) newSubstream(ctx context.Context, f *Stream, arg SubArg) (*Stream, error) {
	st := &Stream{
		name:    f.name,
		kind:    f.kind,
		label:   f.label + "(" + arg.Literal + ")",
		topicID: f.topicID,
		payload: f.payload,
		stored:  f.stored,
		flushed: f.flushed,
		matcher: f.matcher,
		prefix:  f.prefix + "sub=" + arg.Key + "/",
	}
	st.initSubState(nil)
	st.parent, st.sub, st.subKey = f, arg.Literal, arg.Key
	st.turnCond = sync.NewCond(&st.mu)
	m, err := manifest.Load(ctx, e.store, st.prefix)
	if err != nil {
		return nil, err
	}
	// One metric series per factory: arguments are unbounded.
	st.rowsCounter, st.bytesCounter = f.rowsCounter, f.bytesCounter
	st.manifest = m
	st.nextID = m.NextID()
	st.durable = st.nextID
	st.lastTS = m.LastTS()
	return st, nil
}

// discoverSubstreams loads the substreams of every factory from their
// markers. Called by Open, before the WAL is replayed.
func (e *Engine) discoverSubstreams(ctx context.Context) error {
	for _, f := range e.Streams() {
		if !f.IsFactory() {
			continue
		}
		keys, err := e.store.List(ctx, f.prefix+subsDir)
		if err != nil {
			return err
		}
		for _, k := range keys {
			key := k[strings.LastIndexByte(k, '/')+1:]
			lit, err := url.PathUnescape(key)
			if err != nil {
				e.opts.Logger.Warn("substream marker with a bad name skipped", "key", k)
				continue
			}
			st, err := e.newSubstream(ctx, f, SubArg{Literal: lit, Key: key})
			if err != nil {
				return base.Errorf(base.ErrCorrupt, "engine: substream %s(%s): %w", f.label, lit, err)
			}
			// Only here, with no writer yet: a substream made at run time
			// has no leftovers (it had no marker), and a sweep racing a
			// concurrent creator's first flush could delete its segment.
			if !e.opts.ReadOnly {
				e.removeOrphans(ctx, st)
			}
			f.subMu.Lock()
			f.subs[lit] = st
			f.subMu.Unlock()
		}
	}
	return nil
}

// streamOfLabel finds the stream or substream a WAL record names: its label,
// "account/name" or "account/name(literal)". An unknown one is nil.
func (e *Engine) streamOfLabel(label string) (*Stream, base.StreamName, error) {
	top, lit, isSub := strings.Cut(label, "(")
	name, err := base.ParseStreamName(top)
	if err != nil {
		return nil, name, err
	}
	st := e.streams[name]
	if !isSub || st == nil {
		return st, name, nil
	}
	if !strings.HasSuffix(lit, ")") {
		return nil, name, base.Errorf(base.ErrCorrupt, "bad substream label %q", label)
	}
	st.subMu.Lock()
	defer st.subMu.Unlock()
	return st.subs[strings.TrimSuffix(lit, ")")], name, nil
}

// SetSettings replaces the settings of the stream name, creating it as a
// stream of untyped events if it does not exist (created reports that), and
// persists them in the catalog. A stream becomes a factory, or stops being
// one, only while it holds no event and no substream (ErrConflict); a
// topic cannot be a factory (ErrUnsupported: ingest tokens name topics, not
// substreams).
func (e *Engine) SetSettings(ctx context.Context, name base.StreamName, set Settings) (st *Stream, created bool, err error) {
	if err := name.Validate(); err != nil {
		return nil, false, err
	}
	if err := base.CheckNewAccount(name.Account); err != nil {
		return nil, false, err
	}
	set.Blocklist.Referers = slices.Clone(set.Blocklist.Referers)
	set.Blocklist.Arguments = slices.Clone(set.Blocklist.Arguments)
	if _, err := e.Stream(name); err != nil {
		def := streamDef{Name: name.String(), Kind: kindEvents, TopicID: TopicID(name), Created: e.opts.Now().UTC(), Settings: &set}
		if _, err = e.createStream(ctx, def); err != nil {
			return nil, false, err
		}
		created = true // the settings are saved again below: harmless
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, false, base.Errorf(base.ErrClosed, "engine: closed")
	}
	if e.opts.ReadOnly {
		return nil, false, base.Errorf(base.ErrForbidden, "engine: opened read-only")
	}
	st = e.streams[name]
	if st == nil {
		return nil, false, base.Errorf(base.ErrNotFound, "stream %s does not exist", name)
	}
	old := st.settings.Load()
	if set.Factory != old.Factory {
		if set.Factory && st.IsTopic() {
			return nil, false, base.Errorf(base.ErrUnsupported, "stream %s is a topic: factories of topics are not supported", name)
		}
		stats := st.Stats()
		if stats.NextID > 0 || stats.BufferRows > 0 || len(st.substreams()) > 0 {
			return nil, false, base.Errorf(base.ErrConflict,
				"stream %s already holds events or substreams: factory can only change on an empty stream", name)
		}
	}
	st.settings.Store(&set)
	cat := e.catalogLocked()
	err = saveCatalog(e.opts.FS, e.opts.DataDir, cat)
	if err == nil && e.remote() {
		err = saveRemoteCatalog(ctx, e.store, cat)
	}
	if err != nil {
		st.settings.Store(old)
		return nil, false, fmt.Errorf("engine: cannot save the catalog: %w", err)
	}
	return st, created, nil
}
