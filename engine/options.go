package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/ducktail/ducktail/engine/wal"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/vfs"
	"github.com/prometheus/client_golang/prometheus"
)

// Durability says when an append is acknowledged.
type Durability int

const (
	// DurabilitySync acknowledges after the WAL record is fsynced (the default).
	DurabilitySync Durability = iota
	// DurabilityBuffered acknowledges after the WAL record is written to the
	// operating system: it survives a process crash but not a power loss.
	DurabilityBuffered
)

// FlushOptions are the limits at which a stream's buffer becomes a segment.
type FlushOptions struct {
	MaxRows  int64         // default 1,000,000 (flush.max_rows)
	MaxBytes int64         // default 64 MiB (flush.max_bytes)
	MaxAge   time.Duration // default 10 s (flush.max_age)
}

// Options configure an Engine. Zero values take the defaults documented on
// each field.
type Options struct {
	// DataDir holds the catalog, the WAL and, for local storage, the segments.
	DataDir string
	// FS is the filesystem of DataDir. Default vfs.OS{}.
	FS vfs.FS
	// Store holds segments and manifests. Default: storage.NewLocal(DataDir).
	Store storage.Store
	// Durability: see DurabilitySync and DurabilityBuffered.
	Durability Durability
	Flush      FlushOptions
	// RetentionInterval is how often retention runs (see
	// Stream.SetRetention), and how long a segment it removed stays on disk
	// for readers that are still using it. Default 1 minute.
	RetentionInterval time.Duration
	// FlushWorkers is the number of flushes that may run at once; on one
	// stream they pipeline (see Engine.flushJob). Default GOMAXPROCS.
	FlushWorkers int
	// MemoryBudget bounds the bytes held by unflushed buffers. Appends beyond
	// it are refused with ErrOverCapacity and a retry hint while the flusher
	// catches up. Default 512 MiB (memory_budget_bytes).
	MemoryBudget int64
	// MaxSubstreams bounds the substreams of one stream factory: arguments
	// come from clients (a public factory takes any), and each substream
	// is a stream with its own buffer, manifest and segments. Writes that
	// would make one more are refused (base.ErrForbidden). Default 100,000.
	MaxSubstreams int
	// WALFileSize: see wal.Options.FileSize. Default 64 MiB.
	WALFileSize int64
	// ReadOnly opens the data dir without writing anything: the WAL is replayed
	// into memory but never repaired, appended to or truncated, and nothing is
	// flushed. Used by `ducktail sql` beside a running server.
	ReadOnly bool
	Logger   *slog.Logger
	// Registerer receives the engine's metrics. Default: none.
	Registerer prometheus.Registerer
	// Now returns the current time. Default time.Now.
	Now func() time.Time

	// manualFlush, for tests of this package: no background flusher; only
	// Flush and Close flush.
	manualFlush bool
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.Flush.MaxRows <= 0 {
		o.Flush.MaxRows = 1_000_000
	}
	if o.Flush.MaxBytes <= 0 {
		o.Flush.MaxBytes = 64 << 20
	}
	if o.Flush.MaxAge <= 0 {
		o.Flush.MaxAge = 10 * time.Second
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = time.Minute
	}
	if o.FlushWorkers <= 0 {
		o.FlushWorkers = runtime.GOMAXPROCS(0)
	}
	if o.MaxSubstreams <= 0 {
		o.MaxSubstreams = 100_000
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 512 << 20
	}
	if o.WALFileSize <= 0 {
		o.WALFileSize = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports every problem with the options at once.
func (o *Options) Validate() error {
	var errs []error
	if o.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must be set"))
	}
	if o.Flush.MaxRows < 1 {
		errs = append(errs, fmt.Errorf("flush.max_rows: %d is not positive", o.Flush.MaxRows))
	}
	if o.MemoryBudget < 1<<20 {
		errs = append(errs, fmt.Errorf("memory_budget_bytes: %d is below the minimum of 1 MiB", o.MemoryBudget))
	}
	return errors.Join(errs...)
}

func (o *Options) walMode() wal.Mode {
	if o.Durability == DurabilityBuffered {
		return wal.Buffered
	}
	return wal.Sync
}
