//go:build duckdb_arrow

package sqlengine

import (
	"context"
	"testing"
)

// BenchmarkQueryTail: a stream whose tail of 100k rows is already in the
// tail table gets one new 100-row batch per iteration, then
// "select count(*), sum(value)" runs over it.
func BenchmarkQueryTail(b *testing.B) {
	env := newEnv(b)
	s := demoSchema()
	const synced, batch = 100_000, 100
	sizes := make([]int64, 0, 10)
	for range 10 {
		sizes = append(sizes, synced/10)
	}
	v := View{Account: "demo", Name: "events", Schema: s, Tail: tail(b, s, 0, sizes...)}
	ctx := context.Background()
	if _, err := queryRows(ctx, env.e, []View{v}, `select 1`); err != nil {
		b.Fatal(err)
	}
	// Pre-build the new batches so the loop measures the engine only.
	extra := tail(b, s, synced, func() []int64 {
		out := make([]int64, b.N)
		for i := range out {
			out[i] = batch
		}
		return out
	}()...)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		v.Tail = append(v.Tail, extra[i])
		rows, err := queryRows(ctx, env.e, []View{v}, `select count(*), sum(value) from demo.events`)
		if err != nil {
			b.Fatal(err)
		}
		if got, want := rows[0][0].(int64), int64(synced+(i+1)*batch); got != want {
			b.Fatalf("count = %d, want %d", got, want)
		}
	}
}

// BenchmarkQuerySynced: the same query with nothing new to insert.
func BenchmarkQuerySynced(b *testing.B) {
	env := newEnv(b)
	s := demoSchema()
	v := View{Account: "demo", Name: "events", Schema: s, Tail: tail(b, s, 0, 50_000, 50_000)}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := queryRows(ctx, env.e, []View{v}, `select count(*), sum(value) from demo.events`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelectOne(b *testing.B) {
	env := newEnv(b)
	ctx := context.Background()
	for range b.N {
		if _, err := queryRows(ctx, env.e, nil, `select 1`); err != nil {
			b.Fatal(err)
		}
	}
}
