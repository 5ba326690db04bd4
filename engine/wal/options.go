package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/vfs"
)

// Mode says when Wait considers a record durable.
type Mode int

const (
	// Sync: Wait returns after the bytes are written AND fsynced.
	Sync Mode = iota
	// Buffered: Wait returns after the bytes are written to the OS (they
	// survive a process crash, not a power loss); a background fsync runs
	// every Options.BufferedSyncInterval.
	Buffered
)

// String returns "sync" or "buffered".
func (m Mode) String() string {
	switch m {
	case Sync:
		return "sync"
	case Buffered:
		return "buffered"
	}
	return "unknown"
}

// Defaults of Options fields left zero.
const (
	DefaultFileSize             = 64 << 20
	DefaultMaxPendingBytes      = 64 << 20
	DefaultBufferedSyncInterval = time.Second
	// OverCapacityRetryMs is the retry hint carried by the error Append
	// returns when MaxPendingBytes is reached.
	OverCapacityRetryMs = 50
)

// Observer receives one value per observation. A prometheus.Histogram or
// prometheus.Summary (prometheus.Observer) satisfies it.
type Observer interface {
	Observe(float64)
}

// Options configures a Log and Replay. The zero value of every field but Dir
// is a usable default.
type Options struct {
	// Dir is the directory of the log files; Open creates it if missing.
	Dir string
	// FS is the filesystem. Default vfs.OS{}.
	FS vfs.FS
	// Mode is Sync (default) or Buffered (config `durability: buffered`).
	Mode Mode
	// FileSize: once the active file holds at least this many bytes, the
	// next append goes to a new file. Default 64 MiB.
	FileSize int64
	// MaxPendingBytes bounds the bytes appended but not yet written (and,
	// in Sync mode, synced); Append returns an error wrapping
	// base.ErrOverCapacity with a retry hint beyond it. A single record
	// larger than the bound is accepted when nothing else is pending.
	// Default 64 MiB.
	MaxPendingBytes int64
	// BufferedSyncInterval is the period of the background fsync in
	// Buffered mode. Default 1 s.
	BufferedSyncInterval time.Duration
	// Logger receives warnings (torn tails, failures) and start/stop
	// messages. Default: a logger that discards everything.
	Logger *slog.Logger
	// SyncLatency, if set, observes the seconds each fsync of a log file
	// took.
	SyncLatency Observer
}

// ensureDefaults fills the zero fields and validates the rest, naming every
// bad field.
func (o *Options) ensureDefaults() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("Dir is empty"))
	}
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.Mode != Sync && o.Mode != Buffered {
		errs = append(errs, fmt.Errorf("Mode %d is neither Sync nor Buffered", int(o.Mode)))
	}
	if o.FileSize < 0 {
		errs = append(errs, fmt.Errorf("FileSize %d is negative", o.FileSize))
	} else if o.FileSize == 0 {
		o.FileSize = DefaultFileSize
	}
	if o.MaxPendingBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxPendingBytes %d is negative", o.MaxPendingBytes))
	} else if o.MaxPendingBytes == 0 {
		o.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if o.BufferedSyncInterval < 0 {
		errs = append(errs, fmt.Errorf("BufferedSyncInterval %v is negative", o.BufferedSyncInterval))
	} else if o.BufferedSyncInterval == 0 {
		o.BufferedSyncInterval = DefaultBufferedSyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return base.Errorf(base.ErrInvalid, "wal: bad options: %w", errors.Join(errs...))
	}
	return nil
}
