package sqlengine

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
)

// Options configures an Engine.
type Options struct {
	// DataDir is the only directory SQL may read files from; segments live
	// below it. Required. Everything below it is readable from SQL, so it
	// must not contain secrets (point it at the segment root, not at a
	// directory that also holds key files).
	DataDir string
	// AllowedDirs, when set, narrows the directories SQL may read files
	// from to these, each DataDir or below it: a database scoped to some
	// accounts' streams gets only their segment directories. Default:
	// DataDir.
	AllowedDirs []string
	// TempDir is DuckDB's temp, home and extension directory. Required.
	TempDir string
	// MemoryLimit is DuckDB's memory_limit, e.g. "1GB". Default: DuckDB's
	// own (80% of RAM).
	MemoryLimit string
	// Threads is DuckDB's worker thread count. Default 2.
	Threads int
	// Logger receives debug and warning messages. Default: discard.
	Logger *slog.Logger
}

// EnsureDefaults fills zero values with their defaults and makes the
// directories absolute and clean.
func (o *Options) EnsureDefaults() {
	if o.Threads <= 0 {
		o.Threads = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DataDir != "" {
		if abs, err := filepath.Abs(o.DataDir); err == nil {
			o.DataDir = abs
		}
	}
	if o.TempDir != "" {
		if abs, err := filepath.Abs(o.TempDir); err == nil {
			o.TempDir = abs
		}
	}
	if len(o.AllowedDirs) == 0 {
		o.AllowedDirs = []string{o.DataDir}
	}
	dirs := make([]string, len(o.AllowedDirs))
	for i, d := range o.AllowedDirs {
		if abs, err := filepath.Abs(d); err == nil && d != "" {
			d = abs
		}
		dirs[i] = d
	}
	o.AllowedDirs = dirs
}

// Validate reports every problem with the options, naming each field.
func (o *Options) Validate() error {
	var errs []error
	if o.DataDir == "" {
		errs = append(errs, errors.New("sqlengine: DataDir is required"))
	}
	if o.TempDir == "" {
		errs = append(errs, errors.New("sqlengine: TempDir is required (DuckDB needs a home directory)"))
	}
	for _, d := range []struct{ name, val string }{{"DataDir", o.DataDir}, {"TempDir", o.TempDir}, {"MemoryLimit", o.MemoryLimit}} {
		// These values go into a DSN and SQL string literals; refuse the
		// characters that would need escaping there rather than escape them.
		if strings.ContainsAny(d.val, "'?&#\x00\n") {
			errs = append(errs, fmt.Errorf("sqlengine: %s %q contains a character that is not allowed (' ? & # NUL newline)", d.name, d.val))
		}
	}
	for _, d := range o.AllowedDirs {
		if strings.ContainsAny(d, "'?&#\x00\n") {
			errs = append(errs, fmt.Errorf("sqlengine: AllowedDirs %q contains a character that is not allowed (' ? & # NUL newline)", d))
		}
		if rel, err := filepath.Rel(o.DataDir, d); o.DataDir == "" || err != nil || !filepath.IsLocal(rel) && rel != "." {
			errs = append(errs, fmt.Errorf("sqlengine: AllowedDirs %q is not DataDir %q or below it", d, o.DataDir))
		}
	}
	if o.DataDir == "/" {
		errs = append(errs, errors.New("sqlengine: DataDir must not be the root directory"))
	}
	return errors.Join(errs...)
}
