package engine

import (
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/schema"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/prometheus/client_golang/prometheus"
)

// Stream is one stream: its schema, its order (next id, last timestamp), its
// unflushed batches and its committed manifest.
type Stream struct {
	name    base.StreamName
	kind    string // "" a topic, kindEvents untyped events
	label   string // name.String(), made once
	topicID uint32
	payload *arrow.Schema // the user's fields
	stored  *arrow.Schema // system columns, then payload
	flushed *arrow.Schema // stored, with _event dictionary-encoded: see Batch.flushRecord
	matcher *schema.Matcher
	prefix  string // object key prefix: "streams/{account}/{name}/"
	// types are the event types with a definition (nil: none); with them,
	// the stream's schemas are types.payload, .stored and .flushed.
	types atomic.Pointer[typeSet]

	subState // factory settings and substreams: see substream.go

	// flushRW: flush jobs hold it shared; flushAll (Flush, Close) holds it
	// exclusively, to run alone.
	flushRW sync.RWMutex

	mu       sync.Mutex
	nextID   int64         // REQUIRES: mu. The id of the next event appended.
	lastTS   int64         // REQUIRES: mu. The largest _ts given so far (ms).
	durable  int64         // REQUIRES: mu. Every id below it is durable in the WAL.
	changed  chan struct{} // REQUIRES: mu. Closed (and dropped) when durable moves.
	batches  []*Batch
	bufRows  int64
	bufBytes int64
	manifest *manifest.Manifest

	// Flush jobs (see Engine.flushJob). REQUIRES: mu for all of these.
	claimed      int   // batches[:claimed] are taken by jobs in flight
	claimedRows  int64 // their rows
	claimedBytes int64 // and bytes
	nextTicket   uint64
	turn         uint64     // the ticket whose job commits next
	epoch        uint64     // bumped when a job fails: later jobs step aside
	turnCond     *sync.Cond // on mu; signalled when turn moves

	rowsIn    atomic.Int64
	bytesIn   atomic.Int64
	retention atomic.Int64 // a time.Duration; 0: keep segments forever
	limit     limiter
	// The stream's children of the engine's per-stream counters, looked
	// up once rather than per append.
	rowsCounter  prometheus.Counter
	bytesCounter prometheus.Counter
}

// Label returns "account/name".
func (s *Stream) Label() string { return s.label }

// IsTopic reports whether the stream is a topic (a stream with an Arrow
// schema) rather than a stream of untyped events.
func (s *Stream) IsTopic() bool { return s.kind == "" }

// KindName says what kind of stream it is, for messages.
func (s *Stream) KindName() string {
	if s.IsTopic() {
		return "topic (a stream with an Arrow schema)"
	}
	return "stream of untyped events"
}

// Name returns the stream's name.
func (s *Stream) Name() base.StreamName { return s.name }

// TopicID returns the id ingest tokens use for this stream.
func (s *Stream) TopicID() uint32 { return s.topicID }

// Payload returns the schema of the user's fields.
func (s *Stream) Payload() *arrow.Schema {
	if ts := s.typeSet(); ts != nil {
		return ts.payload
	}
	return s.payload
}

// Stored returns the schema of stored rows: system columns, then payload.
// It grows when an event type adds columns; it always covers every row
// appended before the call.
func (s *Stream) Stored() *arrow.Schema {
	if ts := s.typeSet(); ts != nil {
		return ts.stored
	}
	return s.stored
}

// schemas returns the current stored schema and its flush form.
func (s *Stream) schemas() (stored, flushed *arrow.Schema) {
	if ts := s.typeSet(); ts != nil {
		return ts.stored, ts.flushed
	}
	return s.stored, s.flushed
}

// Prefix returns the object key prefix of the stream's segments and manifest.
func (s *Stream) Prefix() string { return s.prefix }

// Stats are a stream's counters at one moment.
type Stats struct {
	NextID      int64 // ids below it are durable (acknowledged or about to be)
	LastTS      int64
	BufferRows  int64
	BufferBytes int64
	Segments    int
	RowsIn      int64
	BytesIn     int64
}

// Stats returns the stream's counters.
func (s *Stream) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		NextID: s.durable, LastTS: s.lastTS,
		BufferRows: s.bufRows, BufferBytes: s.bufBytes,
		Segments: len(s.manifest.Segments),
		RowsIn:   s.rowsIn.Load(), BytesIn: s.bytesIn.Load(),
	}
}

// Snapshot is a consistent view of a stream: its committed segments and the
// durable unflushed batches after them. Every id below NextID is in exactly
// one of the two. The caller must Release it.
type Snapshot struct {
	Stream   *Stream
	Manifest *manifest.Manifest // immutable
	Tail     []*Batch           // retained; in id order
	NextID   int64
}

// Snapshot returns the stream's current snapshot.
func (s *Stream) Snapshot() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := &Snapshot{Stream: s, Manifest: s.manifest, NextID: s.durable}
	for _, b := range s.batches {
		if b.FirstID >= s.durable {
			break
		}
		b.retain()
		snap.Tail = append(snap.Tail, b)
	}
	return snap
}

// Release drops the snapshot's references to its batches.
func (snap *Snapshot) Release() {
	for _, b := range snap.Tail {
		b.release()
	}
	snap.Tail = nil
}

// markDurable records that every id below next is durable, and wakes the
// subscribers waiting on Changed.
func (s *Stream) markDurable(next int64) {
	s.mu.Lock()
	if next > s.durable {
		s.durable = next
		if s.changed != nil {
			close(s.changed)
			s.changed = nil
		}
	}
	s.mu.Unlock()
}

// Changed returns a channel that is closed when new events become durable
// (visible). Subscribers wait on it and then read from a Snapshot at their
// own pace: a writer only ever closes a channel, so no subscriber can slow
// it down.
func (s *Stream) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}
