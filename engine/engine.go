package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/schema"
	"github.com/ducktail/ducktail/engine/wal"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/manifest"
)

// arenaChunk is the size of the arena's chunks of request bodies.
const arenaChunk = 4 << 20

// Engine is the set of streams of one data dir. Safe for concurrent use.
type Engine struct {
	opts    Options
	store   storage.Store
	log     *wal.Log // nil when ReadOnly
	arena   *arena
	mem     memory.Allocator
	metrics *metrics
	lock    *os.File // flock on {DataDir}/LOCK

	bufBytes atomic.Int64 // bytes charged by all unflushed batches

	mu      sync.Mutex
	streams map[base.StreamName]*Stream
	byTopic map[uint32]*Stream
	closed  bool

	doomMu sync.Mutex
	doomed []doomed // segments retention removed, to delete later

	kick    chan struct{} // asks the flusher to look now
	stop    chan struct{}
	stopped sync.WaitGroup
}

// Open opens the data dir: it loads the catalog and each stream's manifest,
// replays the WAL into memory, and (unless ReadOnly) starts a new WAL file
// and the background flusher.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		opts: opts,
		// The free list may hold the whole memory budget: chunks are then
		// reused rather than freshly allocated and page-faulted under load.
		arena:   newArena(arenaChunk, int(max(opts.MemoryBudget/arenaChunk, 16))),
		mem:     memory.DefaultAllocator,
		streams: make(map[base.StreamName]*Stream),
		byTopic: make(map[uint32]*Stream),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	var err error
	if e.metrics, err = newMetrics(opts.Registerer, func() float64 { return float64(e.bufBytes.Load()) }); err != nil {
		return nil, fmt.Errorf("engine: metrics: %w", err)
	}
	if !opts.ReadOnly {
		if err := opts.FS.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("engine: cannot create data dir: %w", err)
		}
		if e.lock, err = lockDir(opts.DataDir); err != nil {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok && e.lock != nil {
			e.lock.Close()
		}
	}()
	e.store = opts.Store
	if e.store == nil {
		local, err := storage.NewLocal(opts.DataDir, opts.FS)
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		e.store = local
	}
	if c, ok := e.store.(interface{ CleanTemp(context.Context) error }); ok && !opts.ReadOnly {
		// Temp files of segment and manifest writes a crash interrupted:
		// never committed, so nothing refers to them.
		if err := c.CleanTemp(ctx); err != nil {
			return nil, fmt.Errorf("engine: removing leftover temp files: %w", err)
		}
	}
	cat, err := loadCatalog(opts.FS, opts.DataDir)
	if err != nil {
		return nil, err
	}
	if e.remote() && len(cat.Streams) == 0 {
		// An empty disk in front of a remote store: the streams are there.
		remote, found, err := loadRemoteCatalog(ctx, e.store)
		if err != nil {
			return nil, fmt.Errorf("engine: reading the catalog from the segment store: %w", err)
		}
		if found {
			cat = remote
			opts.Logger.Info("recovered the catalog from the segment store", "streams", len(cat.Streams))
		}
	}
	for _, def := range cat.Streams {
		if _, err := e.addStream(ctx, def); err != nil {
			return nil, fmt.Errorf("engine: catalog stream %s: %w", def.Name, err)
		}
	}
	if err := e.discoverSubstreams(ctx); err != nil {
		return nil, err
	}
	walOpts := e.walOptions()
	n, err := wal.Replay(walOpts, !opts.ReadOnly, e.replayRecord)
	if err != nil {
		return nil, fmt.Errorf("engine: replaying the WAL: %w", err)
	}
	if n > 0 {
		opts.Logger.Info("replayed the WAL", "records", n, "buffered_bytes", e.bufBytes.Load())
	}
	if !opts.ReadOnly {
		if e.log, err = wal.Open(walOpts); err != nil {
			return nil, fmt.Errorf("engine: opening the WAL: %w", err)
		}
	}
	if !opts.ReadOnly && !opts.manualFlush {
		// Flush jobs stop at their next I/O once Close begins; Close then
		// flushes what is left on its own.
		fctx, cancel := context.WithCancel(context.Background())
		e.stopped.Add(1)
		go func() {
			defer e.stopped.Done()
			<-e.stop
			cancel()
		}()
		e.stopped.Add(1)
		go pprof.Do(fctx, pprof.Labels("ducktail", "retention"), func(ctx context.Context) {
			defer e.stopped.Done()
			e.retentionLoop(ctx)
		})
		for i := 0; i < opts.FlushWorkers; i++ {
			e.stopped.Add(1)
			go pprof.Do(fctx, pprof.Labels("ducktail", "flusher"), func(ctx context.Context) {
				defer e.stopped.Done()
				e.flushLoop(ctx)
			})
		}
	}
	ok = true
	return e, nil
}

func (e *Engine) walOptions() wal.Options {
	return wal.Options{
		Dir:         filepath.Join(e.opts.DataDir, "wal"),
		FS:          e.opts.FS,
		Mode:        e.opts.walMode(),
		FileSize:    e.opts.WALFileSize,
		Logger:      e.opts.Logger,
		SyncLatency: e.metrics.walSync,
	}
}

func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("engine: cannot create lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: data dir %s is in use by another process: %w", dir, err)
	}
	return f, nil
}

// addStream builds a stream from its definition and loads its manifest.
func (e *Engine) addStream(ctx context.Context, def streamDef) (*Stream, error) {
	name, err := base.ParseStreamName(def.Name)
	if err != nil {
		return nil, err
	}
	var payload *arrow.Schema
	switch def.Kind {
	case "":
		if payload, err = schema.FromFields(def.Fields); err != nil {
			return nil, err
		}
	case kindEvents:
		payload = eventsPayload
	default:
		return nil, base.Errorf(base.ErrCorrupt, "stream %s has unknown kind %q", def.Name, def.Kind)
	}
	st := &Stream{
		name:    name,
		kind:    def.Kind,
		label:   name.String(),
		topicID: def.TopicID,
		payload: payload,
		stored:  schema.Stored(payload),
		flushed: flushSchemaOf(schema.Stored(payload)),
		matcher: schema.NewMatcher(payload),
		prefix:  "streams/" + name.Account + "/" + name.Name + "/",
	}
	st.initSubState(def.Settings)
	st.turnCond = sync.NewCond(&st.mu)
	if err := st.loadTypes(def); err != nil {
		return nil, err
	}
	m, err := manifest.Load(ctx, e.store, st.prefix)
	if err != nil {
		return nil, err
	}
	st.rowsCounter = e.metrics.rowsIngested.WithLabelValues(st.label)
	st.bytesCounter = e.metrics.bytesIngested.WithLabelValues(st.label)
	st.manifest = m
	st.nextID = m.NextID()
	st.durable = st.nextID
	st.lastTS = m.LastTS()
	if other, ok := e.byTopic[st.topicID]; ok {
		return nil, base.Errorf(base.ErrConflict, "topic id %d of %s is already used by %s", st.topicID, name, other.name)
	}
	e.streams[name] = st
	e.byTopic[st.topicID] = st
	if !e.opts.ReadOnly {
		e.removeOrphans(ctx, st)
	}
	return st, nil
}

// removeOrphans deletes segment objects under the stream's prefix that no
// committed manifest names. Those with ids past the manifest's end are
// leftovers of a flush that crashed between the segment and the manifest
// commit (their rows are still in the WAL); the others were replaced by a
// compaction or trimmed by retention, and awaited their grace period,
// which no reader needs after a restart.
func (e *Engine) removeOrphans(ctx context.Context, st *Stream) {
	keys, err := e.store.List(ctx, st.prefix)
	if err != nil {
		return
	}
	known := make(map[string]bool, len(st.manifest.Segments))
	for _, s := range st.manifest.Segments {
		known[s.Key] = true
	}
	for _, k := range keys {
		if strings.HasSuffix(k, ".parquet") && !known[k] {
			if err := e.store.Delete(ctx, k); err != nil {
				continue
			}
			if last, ok := segmentLastID(k); ok && last < st.manifest.NextID() {
				e.opts.Logger.Info("removed a replaced segment (compacted or trimmed before the restart)", "key", k)
			} else {
				e.opts.Logger.Warn("removed an uncommitted segment (a flush ended before its manifest commit; its events are in the WAL)", "key", k)
			}
		}
	}
}

// segmentLastID returns the last id in a segment key's name
// ({first}-{last}.parquet, as flush and compaction write it).
func segmentLastID(key string) (int64, bool) {
	name := strings.TrimSuffix(key[strings.LastIndexByte(key, '/')+1:], ".parquet")
	_, last, ok := strings.Cut(name, "-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(last, 10, 64)
	return id, err == nil
}

// CreateTopic creates the stream name with the given payload schema, or
// returns the existing stream if it already has exactly that schema. A stream
// of that name with another schema is an ErrConflict.
func (e *Engine) CreateTopic(ctx context.Context, name base.StreamName, payload *arrow.Schema) (*Stream, error) {
	if err := name.Validate(); err != nil {
		return nil, err
	}
	if err := base.CheckNewAccount(name.Account); err != nil {
		return nil, err
	}
	if err := schema.CheckTopic(payload); err != nil {
		return nil, err
	}
	fields := schema.ToFields(payload)
	return e.createStream(ctx, streamDef{Name: name.String(), TopicID: TopicID(name), Fields: fields, Created: e.opts.Now().UTC()})
}

// CreateEventStream creates the stream name for untyped events (SPEC 2:
// each event's content type and bytes), or returns it if it exists as one.
// A topic of that name is an ErrConflict.
func (e *Engine) CreateEventStream(ctx context.Context, name base.StreamName) (*Stream, error) {
	if err := name.Validate(); err != nil {
		return nil, err
	}
	if err := base.CheckNewAccount(name.Account); err != nil {
		return nil, err
	}
	return e.createStream(ctx, streamDef{Name: name.String(), Kind: kindEvents, TopicID: TopicID(name), Created: e.opts.Now().UTC()})
}

// createStream adds and persists def, or returns the stream of that name if
// it has the same kind and schema.
func (e *Engine) createStream(ctx context.Context, def streamDef) (*Stream, error) {
	name, _ := base.ParseStreamName(def.Name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, base.Errorf(base.ErrClosed, "engine: closed")
	}
	if st, ok := e.streams[name]; ok {
		if st.kind == def.Kind && (def.Kind != "" || sameFields(schema.ToFields(st.payload), def.Fields)) {
			return st, nil
		}
		if st.kind != def.Kind {
			return nil, base.Errorf(base.ErrConflict, "stream %s already exists as a %s", name, st.KindName())
		}
		return nil, base.Errorf(base.ErrConflict, "stream %s already exists with another schema", name)
	}
	if e.opts.ReadOnly {
		return nil, base.Errorf(base.ErrForbidden, "engine: opened read-only")
	}
	st, err := e.addStream(ctx, def)
	if err != nil {
		return nil, err
	}
	cat := e.catalogLocked()
	err = saveCatalog(e.opts.FS, e.opts.DataDir, cat)
	if err == nil && e.remote() {
		err = saveRemoteCatalog(ctx, e.store, cat)
	}
	if err != nil {
		delete(e.streams, name)
		delete(e.byTopic, st.topicID)
		return nil, fmt.Errorf("engine: cannot save the catalog: %w", err)
	}
	return st, nil
}

func sameFields(a, b []schema.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (e *Engine) catalogLocked() catalogFile {
	var c catalogFile
	for _, st := range e.streams {
		def := streamDef{Name: st.name.String(), Kind: st.kind, TopicID: st.topicID, Settings: st.settingsDef()}
		if st.kind == "" {
			def.Fields = schema.ToFields(st.payload)
		}
		if ts := st.types.Load(); ts != nil {
			def.Types = ts.defs()
			def.Columns = schema.ToFields(arrow.NewSchema(ts.columns, nil))
		}
		c.Streams = append(c.Streams, def)
	}
	return c
}

// Stream returns the named stream, or an ErrNotFound error.
func (e *Engine) Stream(name base.StreamName) (*Stream, error) {
	e.mu.Lock()
	st := e.streams[name]
	e.mu.Unlock()
	if st == nil {
		return nil, base.Errorf(base.ErrNotFound, "stream %s does not exist", name)
	}
	return st, nil
}

// StreamByTopic returns the stream with the given topic id, or ErrNotFound.
func (e *Engine) StreamByTopic(id uint32) (*Stream, error) {
	e.mu.Lock()
	st := e.byTopic[id]
	e.mu.Unlock()
	if st == nil {
		return nil, base.Errorf(base.ErrNotFound, "no topic has id %d", id)
	}
	return st, nil
}

// Streams returns every stream, sorted by name.
func (e *Engine) Streams() []*Stream {
	e.mu.Lock()
	out := make([]*Stream, 0, len(e.streams))
	for _, st := range e.streams {
		out = append(out, st)
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name.String() < out[j].name.String() })
	return out
}

// remote reports whether segments live in a store other than the data dir
// (Options.Store was given): the catalog is then copied there too.
func (e *Engine) remote() bool { return e.opts.Store != nil }

// Store returns the segment store.
func (e *Engine) Store() storage.Store { return e.store }

// Err returns the WAL's sticky error: non-nil once the engine can no longer
// make writes durable (a full disk, a failed fsync).
func (e *Engine) Err() error {
	if e.log == nil {
		return nil
	}
	return e.log.Err()
}

// Close flushes every stream, commits, closes the WAL and removes the WAL
// files that the flush covered. It is idempotent.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	if e.opts.ReadOnly {
		return nil
	}
	close(e.stop)
	e.stopped.Wait()
	var errs []error
	for _, st := range e.allStreams() {
		if err := e.flushAll(ctx, st); err != nil {
			errs = append(errs, fmt.Errorf("flushing %s: %w", st.name, err))
		}
	}
	if len(errs) == 0 {
		e.truncateWAL()
	}
	if err := e.log.Close(); err != nil {
		errs = append(errs, err)
	}
	if e.lock != nil {
		e.lock.Close()
	}
	return errors.Join(errs...)
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func nowMs(t time.Time) int64 { return t.UnixMilli() }
