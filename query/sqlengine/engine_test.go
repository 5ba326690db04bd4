//go:build duckdb_arrow

package sqlengine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

// demoView is demo/events with two segments (ids 0..99, 100..249) and a
// tail of three batches (250..259, 260..289, 290).
func demoView(env *testEnv) View {
	s := demoSchema()
	return View{
		Account: "demo", Name: "events", Schema: s,
		Files: []string{env.writeSegment(s, "events", 0, 100), env.writeSegment(s, "events", 100, 150)},
		Tail:  tail(env.t, s, 250, 10, 30, 1),
	}
}

// expected answers over ids 0..n-1.
func wantValues(n int64) []float64 {
	out := make([]float64, n)
	for id := range n {
		out[id] = rowValue(id)
	}
	return out
}

func wantSum(n int64) float64 {
	var s float64
	for _, v := range wantValues(n) {
		s += v
	}
	return s
}

func TestViewReadsSegmentsAndTail(t *testing.T) {
	env := newEnv(t)
	v := demoView(env)
	const n = 291
	views := []View{v}

	t.Run("single non-first column", func(t *testing.T) {
		rows := env.query(views, `select value from "demo"."events" order by _id`)
		var got []float64
		for _, r := range rows {
			got = append(got, r[0].(float64))
		}
		if !reflect.DeepEqual(got, wantValues(n)) {
			t.Fatalf("values: got %d rows %v, want %v", len(got), got, wantValues(n))
		}
	})
	t.Run("sum", func(t *testing.T) {
		if got := one(t, env.query(views, `select sum(value) from demo.events`)); got != wantSum(n) {
			t.Fatalf("sum = %v, want %v", got, wantSum(n))
		}
	})
	t.Run("where", func(t *testing.T) {
		// value > 50 <=> id > 98.
		if got := one(t, env.query(views, `select count(*) from demo.events where value > 50`)); got != int64(n-99) {
			t.Fatalf("count = %v, want %d", got, n-99)
		}
	})
	t.Run("group by", func(t *testing.T) {
		want := map[string][2]any{}
		for id := range int64(n) {
			w := want[rowEvent(id)]
			c, _ := w[0].(int64)
			s, _ := w[1].(float64)
			want[rowEvent(id)] = [2]any{c + 1, s + rowValue(id)}
		}
		rows := env.query(views, `select event, count(*), sum(value) from demo.events group by event`)
		got := map[string][2]any{}
		for _, r := range rows {
			got[r[0].(string)] = [2]any{r[1], r[2]}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("group by: got %v, want %v", got, want)
		}
	})
	t.Run("same query twice", func(t *testing.T) {
		q := `select count(*), sum(value), min(_id), max(_id) from demo.events`
		first := env.query(views, q)
		second := env.query(views, q)
		want := [][]any{{int64(n), wantSum(n), int64(0), int64(n - 1)}}
		if !reflect.DeepEqual(first, want) || !reflect.DeepEqual(second, want) {
			t.Fatalf("got %v then %v, want %v", first, second, want)
		}
	})
	t.Run("types", func(t *testing.T) {
		rows := env.query(views, `select distinct typeof(_ts), typeof(_tenant), typeof(value) from demo.events`)
		want := [][]any{{"TIMESTAMP WITH TIME ZONE", "UINTEGER", "DOUBLE"}}
		if !reflect.DeepEqual(rows, want) {
			t.Fatalf("types: got %v, want %v", rows, want)
		}
	})
	t.Run("arrow schema", func(t *testing.T) {
		res, err := env.e.Query(context.Background(), views, `select * from demo.events`)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Release()
		want := demoSchema()
		if got := res.Schema; got.NumFields() != want.NumFields() {
			t.Fatalf("schema %v, want the columns of %v", got, want)
		}
		for i, f := range want.Fields() {
			g := res.Schema.Field(i)
			if g.Name != f.Name || g.Type.ID() != f.Type.ID() {
				t.Errorf("column %d: got %s %s, want %s %s", i, g.Name, g.Type, f.Name, f.Type)
			}
		}
		if ts := res.Schema.Field(1).Type.(*arrow.TimestampType); ts.TimeZone == "" {
			t.Errorf("_ts has no time zone: %s", ts)
		}
	})
}

func TestTailOnlyAndEmptyStreams(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	views := []View{
		{Account: "demo", Name: "tailonly", Schema: s, Tail: tail(t, s, 0, 5, 7)},
		{Account: "demo", Name: "empty", Schema: s},
		{Account: "other", Name: "filesonly", Schema: s, Files: []string{env.writeSegment(s, "filesonly", 0, 40)}},
	}
	f := func(q string, want []any) {
		t.Helper()
		got := env.query(views, q)
		if !reflect.DeepEqual(got, [][]any{want}) {
			t.Fatalf("%s: got %v, want %v", q, got, want)
		}
	}
	f(`select count(*), sum(value), max(_id) from demo.tailonly`, []any{int64(12), wantSum(12), int64(11)})
	f(`select count(*), sum(value) from demo.empty`, []any{int64(0), nil})
	f(`select count(*), sum(value) from other.filesonly`, []any{int64(40), wantSum(40)})
	f(`select count(*) from (describe demo.empty)`, []any{int64(len(s.Fields()))})
	f(`select value from demo.tailonly where _id = 11`, []any{rowValue(11)})
}

func TestLazyTailUpdate(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	tb := tail(t, s, 0, 10, 20, 30, 40) // ids 0..9, 10..29, 30..59, 60..99
	v := View{Account: "demo", Name: "events", Schema: s}
	check := func(step string, n int64, wantInserted int) {
		t.Helper()
		rows := env.query([]View{v}, `select count(*), count(distinct _id), sum(value), max(_id) from demo.events`)
		want := [][]any{{n, n, wantSum(n), n - 1}}
		if !reflect.DeepEqual(rows, want) {
			t.Fatalf("%s: got %v, want %v", step, rows, want)
		}
		if got := env.e.batchesInserted; got != wantInserted {
			t.Fatalf("%s: %d batches inserted in all, want %d", step, got, wantInserted)
		}
	}

	v.Tail = tb[:2]
	check("two batches", 30, 2)
	v.Tail = tb[:3]
	check("third batch", 60, 3)
	check("unchanged", 60, 3)

	// The first batch moves into a segment.
	v.Files = []string{env.writeSegment(s, "events", 0, 10)}
	v.Tail = tb[1:3]
	check("first batch flushed", 60, 3)

	// Tail empty: everything is in files; the view keeps no tail rows.
	v.Files = append(v.Files, env.writeSegment(s, "events", 10, 50))
	v.Tail = nil
	check("all flushed", 60, 3)

	// A flush that took part of a batch: the new tail straddles what the
	// table had; only the rows past it are inserted.
	v.Tail = []TailBatch{{FirstID: 60, Rec: tb[3].Rec}}
	check("new batch", 100, 4)

	// An older picture (files as before the last flush, tail from 10)
	// must not bring rows back twice or lose any.
	older := View{Account: "demo", Name: "events", Schema: s, Files: v.Files[:1], Tail: tb[1:3]}
	rows := env.query([]View{older}, `select count(*), count(distinct _id) from demo.events`)
	if want := [][]any{{int64(100), int64(100)}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("older picture: got %v, want %v", rows, want)
	}
	check("back to current", 100, 4)
}

func TestSliceStraddlingBatch(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	v := View{Account: "demo", Name: "events", Schema: s, Tail: tail(t, s, 0, 50)}
	env.query([]View{v}, `select 1`)
	// The caller merged the rows 0..49 and 50..79 into one batch.
	v.Tail = tail(t, s, 0, 80)
	rows := env.query([]View{v}, `select count(*), count(distinct _id), sum(value) from demo.events`)
	if want := [][]any{{int64(80), int64(80), wantSum(80)}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("got %v, want %v", rows, want)
	}
}

func TestSchemaGrows(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	seg := env.writeSegment(s, "events", 0, 20)
	env.query([]View{{Account: "demo", Name: "events", Schema: s, Files: []string{seg}, Tail: tail(t, s, 20, 5)}}, `select 1`)

	// A new event type adds a column: old segments lack it, the tail has it.
	fields := append(s.Fields(), arrow.Field{Name: "extra", Type: arrow.BinaryTypes.String, Nullable: true})
	s2 := arrow.NewSchema(fields, nil)
	v := View{Account: "demo", Name: "events", Schema: s2, Files: []string{seg}, Tail: tail(t, s2, 20, 5, 5)}
	rows := env.query([]View{v}, `select count(*), count(extra), sum(value), max(_id) from demo.events`)
	if want := [][]any{{int64(30), int64(0), wantSum(30), int64(29)}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("got %v, want %v", rows, want)
	}
}

func TestBadViews(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	f := func(name string, v View) {
		t.Helper()
		if _, err := env.e.Query(context.Background(), []View{v}, `select 1`); err == nil {
			t.Fatalf("%s: no error", name)
		}
	}
	f("bad account", View{Account: "De.mo", Name: "events", Schema: s})
	f("no schema", View{Account: "demo", Name: "events"})
	f("gap in tail", View{Account: "demo", Name: "events", Schema: s, Tail: append(tail(t, s, 0, 5), tail(t, s, 6, 5)...)})
	f("wrong batch schema", View{Account: "demo", Name: "events", Schema: s, Tail: tail(t, arrow.NewSchema(s.Fields()[:3], nil), 0, 5)})
	// The engine still works.
	if got := one(t, env.query(nil, `select 42`)); got != int32(42) {
		t.Fatalf("select 42 = %v (%T)", got, got)
	}
}

func TestConcurrentQueriesSeeDensePrefix(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	const steps, size = 40, 25
	sizes := make([]int64, steps)
	for i := range sizes {
		sizes[i] = size
	}
	all := tail(t, s, 0, sizes...)

	// The writer publishes growing pictures of the stream; every other step
	// the oldest batches move into a segment, leaving one in the tail. It moves on after readers
	// have finished two queries, so queries interleave with every step.
	var mu sync.Mutex
	current := View{Account: "demo", Name: "events", Schema: s}
	snapshot := func() []View {
		mu.Lock()
		defer mu.Unlock()
		return []View{current}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	queried := make(chan struct{}, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		flushed := 0
		for i := 1; i <= steps; i++ {
			next := View{Account: "demo", Name: "events", Schema: s, Files: current.Files}
			if i%2 == 0 {
				seg := env.writeSegment(s, "events", int64(flushed*size), int64((i-1-flushed)*size))
				next.Files = append(append([]string(nil), current.Files...), seg)
				flushed = i - 1
			}
			next.Tail = all[flushed:i]
			mu.Lock()
			current = next
			mu.Unlock()
			for range 2 {
				select {
				case <-queried:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				rows, err := queryRows(ctx, env.e, snapshot(), `select count(*), count(distinct _id), coalesce(max(_id), -1) from demo.events`)
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", g, err)
					return
				}
				c, d, m := rows[0][0].(int64), rows[0][1].(int64), rows[0][2].(int64)
				if c != m+1 || d != c {
					errs <- fmt.Errorf("reader %d: count %d, distinct %d, max id %d: not a dense prefix", g, c, d, m)
					return
				}
				select {
				case queried <- struct{}{}:
				default:
				}
			}
		}()
	}
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ctx.Err() != nil {
		t.Fatal("timed out")
	}
	rows := env.query(snapshot(), `select count(*), sum(value) from demo.events`)
	if want := [][]any{{int64(steps * size), wantSum(steps * size)}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("final: got %v, want %v", rows, want)
	}
}

func TestCancelInterruptsQuery(t *testing.T) {
	env := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := queryRows(ctx, env.e, nil, `select count(*) from range(10000000000) t(i) where i % 7 = 3`)
		errc <- err
	}()
	// Cancel once the query has had a moment to start; the assertion is on
	// the outcome, not on timing.
	time.AfterFunc(200*time.Millisecond, cancel)
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if errors.Is(err, base.ErrInvalid) {
			t.Fatalf("a cancelled query is not invalid input: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("query was not interrupted")
	}
	// The pool's connections still work afterwards.
	for range 3 {
		if got := one(t, env.query(nil, `select 1`)); got != int32(1) {
			t.Fatalf("select 1 = %v", got)
		}
	}
}

func TestClosedEngine(t *testing.T) {
	env := newEnv(t)
	if err := env.e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := env.e.Query(context.Background(), nil, `select 1`); !errors.Is(err, base.ErrClosed) {
		t.Fatalf("Query after Close: %v, want ErrClosed", err)
	}
}

// TestFailedUpdateChangesNothing: a failed update of a view leaves the
// others as they were, and a cancelled one changes nothing.
func TestFailedUpdateChangesNothing(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	good := View{Account: "demo", Name: "events", Schema: s, Tail: tail(t, s, 0, 10, 10)}
	bad := View{Account: "demo", Name: "broken", Schema: s, Files: []string{filepath.Join(env.data, "missing.parquet")}}
	// The broken view fails its own queries; the update of the others is
	// tried again without it, and its batches are counted once, not also
	// for the attempt that was rolled back.
	_, err := queryRows(context.Background(), env.e, []View{good, bad}, `select count(*) from demo.broken`)
	if err == nil || !strings.Contains(err.Error(), "demo/broken cannot be queried") {
		t.Fatalf("a view over a missing file: %v, want an error naming it", err)
	}
	if got := env.e.batchesInserted; got != 2 {
		t.Fatalf("%d batches counted, want the 2 of demo.events", got)
	}
	// A cancelled context stops the update before it starts.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := env.e.Query(ctx, []View{good}, `select 1`); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	rows := env.query([]View{good}, `select count(*), count(distinct _id), sum(value) from demo.events`)
	if want := [][]any{{int64(20), int64(20), wantSum(20)}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("after the failures: got %v, want %v", rows, want)
	}
	if got := env.e.batchesInserted; got != 2 {
		t.Fatalf("%d batches inserted, want 2", got)
	}
}

// TestBrokenViewIsolated: a stream whose view cannot be brought up to date
// (here a float16 column, which DuckDB's Arrow scan refuses) fails the
// queries that read it, with the reason, and no others; once it can be
// updated again (its schema fixed), it is queried as any other.
func TestBrokenViewIsolated(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	bad := arrow.NewSchema(append(slices.Clone(s.Fields()), arrow.Field{Name: "h", Type: arrow.FixedWidthTypes.Float16, Nullable: true}), nil)
	views := []View{
		{Account: "demo", Name: "good", Schema: s, Tail: tail(t, s, 0, 5)},
		{Account: "demo", Name: "bad", Schema: bad},
		{Account: "other", Name: "good", Schema: s, Tail: tail(t, s, 0, 3)},
	}
	for range 2 { // and again: the broken stream is tried anew each time
		if got := one(t, env.query(views, `select count(*) from demo.good`)); got != int64(5) {
			t.Fatalf("demo.good: %v", got)
		}
		if got := one(t, env.query(views, `select count(*) from other.good`)); got != int64(3) {
			t.Fatalf("other.good: %v", got)
		}
		if got := one(t, env.query(views, `select 1`)); got != int32(1) {
			t.Fatalf("select 1: %v", got)
		}
		_, err := queryRows(context.Background(), env.e, views, `select count(*) from demo.bad`)
		if err == nil || !strings.Contains(err.Error(), "stream demo/bad cannot be queried") {
			t.Fatalf("demo.bad: %v, want an error saying it cannot be queried", err)
		}
	}
	views[1].Schema = s
	views[1].Tail = tail(t, s, 0, 2)
	if got := one(t, env.query(views, `select count(*) from demo.bad`)); got != int64(2) {
		t.Fatalf("demo.bad fixed: %v", got)
	}
}
