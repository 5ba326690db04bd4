//go:build duckdb_arrow

package sqlengine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/ducktail/ducktail/base"
)

// Engine is a DuckDB database holding one view per stream. It is safe for
// concurrent use.
type Engine struct {
	opts Options
	log  *slog.Logger
	db   *sql.DB
	mu   sync.Mutex // guards the fields below
	// internal is the connection for view and tail-table maintenance; user
	// statements never run on it. Nil after the pool dropped it.
	internal *sql.Conn
	closed   bool
	streams  map[streamKey]streamState
	// batchesInserted counts the tail batches copied into tail tables (for
	// tests of the lazy update).
	batchesInserted int
}

// Open starts an in-memory DuckDB database and locks it down (see the
// package doc).
func Open(opts Options) (*Engine, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("threads", strconv.Itoa(opts.Threads))
	if opts.MemoryLimit != "" {
		q.Set("memory_limit", opts.MemoryLimit)
	}
	q.Set("temp_directory", filepath.Join(opts.TempDir, "spill"))
	q.Set("home_directory", opts.TempDir)
	q.Set("extension_directory", filepath.Join(opts.TempDir, "extensions"))
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "false")
	q.Set("allow_community_extensions", "false")
	connector, err := duckdb.NewConnector("?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("sqlengine: cannot open DuckDB: %w", err)
	}
	db := sql.OpenDB(connector)
	e := &Engine{opts: opts, log: opts.Logger, db: db, streams: make(map[streamKey]streamState)}
	if err := e.setUp(); err != nil {
		return nil, errors.Join(err, e.closeDB())
	}
	return e, nil
}

// setUp opens the internal connection and locks the database down. Order
// matters: allowed_directories first (it keeps the segments readable once
// external access is off), then enable_external_access, then
// lock_configuration, after which no connection can change a setting.
func (e *Engine) setUp() error {
	// Set-up is not a request: it has no caller context to follow.
	ctx := context.Background()
	c, err := e.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlengine: cannot connect to DuckDB: %w", err)
	}
	e.internal = c
	stmts := []string{
		"SET parquet_metadata_cache = true",
		"SET allowed_directories = [" + allowedDirs(e.opts.AllowedDirs) + "]",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
		"CREATE SCHEMA IF NOT EXISTS " + quoteIdent(tailSchema),
	}
	for _, s := range stmts {
		if _, err := c.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sqlengine: set-up %q: %w", s, err)
		}
	}
	return nil
}

// allowedDirs returns the list of dirs as DuckDB string literals, each with
// a trailing separator so that "/d/demo/" does not also allow "/d/demo2".
func allowedDirs(dirs []string) string {
	lits := make([]string, len(dirs))
	for i, d := range dirs {
		lits[i] = quoteString(strings.TrimSuffix(d, string(filepath.Separator)) + string(filepath.Separator))
	}
	return strings.Join(lits, ", ")
}

// Options returns the options the engine was opened with, defaults filled
// in: the base of a database scoped to fewer directories.
func (e *Engine) Options() Options { return e.opts }

// Close closes the database. Results not yet released become invalid.
// Close is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return e.closeDB()
}

func (e *Engine) closeDB() error {
	var errs []error
	if e.internal != nil {
		errs = append(errs, e.internal.Close())
	}
	errs = append(errs, e.db.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlengine: close: %w", err)
	}
	return nil
}

// Query brings views up to date, checks that q is a single read-only
// statement and runs it. A statement that is not a read, several
// statements, a syntax or binder error, or a refused file access is an
// error wrapping base.ErrInvalid with DuckDB's message; a query that runs
// out of memory wraps base.ErrOverCapacity. Cancelling ctx interrupts the
// query (the error then wraps ctx.Err()); ctx must stay live while the
// result is read. The caller must Release the result.
func (e *Engine) Query(ctx context.Context, views []View, q string) (*Result, error) {
	if err := e.sync(ctx, views); err != nil {
		return nil, err
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, e.queryError(ctx, err)
	}
	res, err := e.run(ctx, conn, q)
	if err != nil {
		return nil, errors.Join(e.queryError(ctx, err), e.endConn(ctx, conn))
	}
	return res, nil
}

// run runs q in a read-only transaction on conn. On success the result owns
// conn; on error the caller ends it.
func (e *Engine) run(ctx context.Context, conn *sql.Conn, q string) (*Result, error) {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		return nil, err
	}
	var res *Result
	err := conn.Raw(func(dc any) error {
		if err := checkStatement(dc, q); err != nil {
			return err
		}
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err := a.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		res = &Result{Schema: rr.Schema(), Reader: rr}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.release = func() {
		res.Reader.Release()
		if err := e.endConn(ctx, conn); err != nil {
			e.log.Warn("sqlengine: cannot end query connection", "err", err)
		}
	}
	return res, nil
}

// endConn rolls back conn's transaction and returns it to the pool; a
// connection that cannot roll back is discarded instead.
func (e *Engine) endConn(ctx context.Context, conn *sql.Conn) error {
	ctx = context.WithoutCancel(ctx)
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		// Not in a transaction (BEGIN failed) is fine; anything else means
		// the connection's state is unknown: make the pool drop it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return conn.Close()
}

// queryError classifies an error from the user's statement.
func (e *Engine) queryError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("sqlengine: query interrupted: %w", ctxErr)
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		if errors.Is(err, errNotOneStatement) || errors.Is(err, errNotRead) {
			return base.Errorf(base.ErrInvalid, "sql: %w", err)
		}
		return fmt.Errorf("sqlengine: query: %w", err)
	}
	switch de.Type {
	case duckdb.ErrorTypeOutOfMemory:
		return base.Retry(base.ErrOverCapacity, 1000, "sql: %s (the query needs more memory than the engine may use)", de.Msg)
	case duckdb.ErrorTypeInternal, duckdb.ErrorTypeFatal, duckdb.ErrorTypeConnection:
		return fmt.Errorf("sqlengine: query: %w", err)
	case duckdb.ErrorTypeInterrupt:
		return fmt.Errorf("sqlengine: query interrupted: %w", err)
	}
	return base.Errorf(base.ErrInvalid, "sql: %w", de)
}
