//go:build !duckdb_arrow

package sqlengine

import (
	"context"
	"errors"
)

// Engine is a DuckDB database holding one view per stream. This build has
// no DuckDB Arrow support: build with -tags duckdb_arrow.
type Engine struct{}

// Open fails: duckdb-go's Arrow interface needs the duckdb_arrow build tag.
func Open(opts Options) (*Engine, error) {
	return nil, errNoArrow()
}

// Options returns the zero Options.
func (e *Engine) Options() Options { return Options{} }

// Close does nothing.
func (e *Engine) Close() error { return nil }

// Query fails: see Open.
func (e *Engine) Query(ctx context.Context, views []View, q string) (*Result, error) {
	return nil, errNoArrow()
}

func errNoArrow() error {
	return errors.New("sqlengine: SQL is not available: this binary was built without -tags duckdb_arrow")
}
