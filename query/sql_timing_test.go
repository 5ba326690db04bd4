//go:build duckdb_arrow

package query

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query/sqlengine"
)

// sqlBench is an engine with two accounts' streams of 2*benchEvents events each (half
// in a segment, half in the tail) and SQL over it.
func sqlBench(b testing.TB) *SQL {
	ctx := context.Background()
	dir := b.TempDir()
	eng, err := engine.Open(ctx, engine.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close(ctx) })
	evs := make([]engine.Event, benchEvents)
	for i := range evs {
		evs[i] = engine.Event{ContentType: "text/plain", Data: []byte("an event of some thirty bytes"), Index: -1}
	}
	for _, acc := range []string{"acme", "rival"} {
		st, err := eng.CreateEventStream(ctx, base.StreamName{Account: acc, Name: "log"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := eng.AppendEvents(ctx, st, evs); err != nil {
			b.Fatal(err)
		}
	}
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	for _, st := range eng.Streams() {
		if _, err := eng.AppendEvents(ctx, st, evs); err != nil {
			b.Fatal(err)
		}
	}
	db, err := sqlengine.Open(sqlengine.Options{DataDir: filepath.Join(dir, "streams"), TempDir: filepath.Join(dir, "tmp")})
	if err != nil {
		b.Fatal(err)
	}
	s := NewSQL(eng, db)
	b.Cleanup(func() { s.Close(); db.Close() })
	return s
}

func runSQL(b testing.TB, query func() (*sqlengine.Result, error)) {
	res, err := query()
	if err != nil {
		b.Fatal(err)
	}
	for res.Reader.Next() {
	}
	if err := res.Reader.Err(); err != nil {
		b.Fatal(err)
	}
	res.Release()
}

// benchEvents is the events per stream in a segment and in the tail.
const benchEvents = 2000

const benchQuery = `select count(*), sum(octet_length(_data)) from acme.log`

// BenchmarkSQLAdmin: the admin's query, every stream's view in one
// database, views already up to date.
func BenchmarkSQLAdmin(b *testing.B) {
	s := sqlBench(b)
	ctx := context.Background()
	q := func() (*sqlengine.Result, error) { return s.Query(ctx, benchQuery, nil) }
	runSQL(b, q)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		runSQL(b, q)
	}
}

// BenchmarkSQLScoped: the same query by an API key of account acme, its
// scoped database already open and up to date.
func BenchmarkSQLScoped(b *testing.B) {
	s := sqlBench(b)
	ctx := context.Background()
	q := func() (*sqlengine.Result, error) { return s.QueryScoped(ctx, benchQuery, Scope{Account: "acme"}) }
	runSQL(b, q)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		runSQL(b, q)
	}
}

// BenchmarkSQLScopedCold: every query opens its scope's database (one
// scoped database kept, two scopes alternating) and copies the
// tail of benchEvents rows into it.
func BenchmarkSQLScopedCold(b *testing.B) {
	s := sqlBench(b)
	s.SetMaxScoped(1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		stream := []string{"", "log"}[i%2]
		runSQL(b, func() (*sqlengine.Result, error) {
			return s.QueryScoped(ctx, benchQuery, Scope{Account: "acme", Stream: stream})
		})
	}
}
