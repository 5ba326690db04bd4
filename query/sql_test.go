//go:build duckdb_arrow

package query

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query/sqlengine"
)

// TestSQLTailOfSingleEvents: a tail of one batch per event (merged before
// DuckDB copies it) answers a filter on a non-first column and a
// projection exactly, before and after more events arrive.
func TestSQLTailOfSingleEvents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := engine.Open(ctx, engine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	st, err := eng.CreateEventStream(ctx, base.StreamName{Account: "acme", Name: "log"})
	if err != nil {
		t.Fatal(err)
	}
	add := func(from, to int) {
		for i := from; i < to; i++ {
			ev := engine.Event{ContentType: "text/plain", Type: fmt.Sprint("t", i%3), Data: []byte(fmt.Sprint("event ", i)), Index: -1}
			if _, err := eng.AppendEvent(ctx, st, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	db, err := sqlengine.Open(sqlengine.Options{DataDir: filepath.Join(dir, "streams"), TempDir: filepath.Join(dir, "tmp")})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSQL(eng, db)
	defer func() { s.Close(); db.Close() }()
	const q = `select count(*), sum(_id), max(_data::varchar) from acme.log where _event = 't1'`
	check := func(n int) {
		t.Helper()
		res, err := s.Query(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Release()
		var got string
		for res.Reader.Next() {
			rec := res.Reader.RecordBatch()
			got = fmt.Sprint(rec.Column(0).(*array.Int64).Value(0), " ", rec.Column(1).ValueStr(0), " ", rec.Column(2).ValueStr(0))
		}
		count, sum, maxData := 0, 0, ""
		for i := 0; i < n; i++ {
			if i%3 == 1 {
				count++
				sum += i
				maxData = max(maxData, fmt.Sprint("event ", i))
			}
		}
		if want := fmt.Sprint(count, " ", sum, " ", maxData); got != want {
			t.Fatalf("%d events: got %q, want %q", n, got, want)
		}
	}
	add(0, 3000)
	check(3000)
	add(3000, 3500)
	check(3500)
}
