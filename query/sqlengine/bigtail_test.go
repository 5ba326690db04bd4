//go:build duckdb_arrow

package sqlengine

import "testing"

// TestBigTail: tails of more rows than DuckDB's row group (122,880), in one
// record or several, are all seen: one INSERT from an Arrow view that large
// silently inserts nothing (see maxInsertRows).
func TestBigTail(t *testing.T) {
	s := demoSchema()
	for _, sizes := range [][]int64{{200000}, {62000, 62000}, {100000, 30000}, {65536, 65536, 1}, {100, 200}} {
		env := newEnv(t)
		v := View{Account: "demo", Name: "events", Schema: s, Tail: tail(t, s, 0, sizes...)}
		total := int64(0)
		for _, n := range sizes {
			total += n
		}
		rows := env.query([]View{v}, `select count(*), count(distinct _id), max(_id), sum(value) from demo.events`)
		want := 0.0
		for id := range total {
			want += rowValue(id)
		}
		if got := rows[0]; got[0] != total || got[1] != total || got[2] != total-1 || got[3] != want {
			t.Errorf("tail of %v: count, distinct, max id, sum = %v, want %d %d %d %v", sizes, got, total, total, total-1, want)
		}
	}
}
