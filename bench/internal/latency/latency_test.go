package latency

import (
	"testing"
	"time"
)

func TestSummary(t *testing.T) {
	var all []time.Duration
	for i := 100; i >= 1; i-- {
		all = append(all, time.Duration(i)*time.Millisecond)
	}
	p50, p99, maxMs := Summary(all)
	if p50 != 50 || p99 != 99 || maxMs != 100 {
		t.Fatalf("p50 %v p99 %v max %v, want 50 99 100", p50, p99, maxMs)
	}
	if p50, p99, maxMs := Summary(nil); p50 != 0 || p99 != 0 || maxMs != 0 {
		t.Fatal("empty: want zeros")
	}
	if got := JSON(map[string]int{"a": 1}); got != `{"a":1}` {
		t.Fatal(got)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	f := func(sorted []time.Duration, q float64, want time.Duration) {
		t.Helper()
		if got := Percentile(sorted, q); got != want {
			t.Fatalf("Percentile(%v, %v) = %v, want %v", sorted, q, got, want)
		}
	}
	f(nil, 0.5, 0)
	f(ms(7), 0.99, 7*time.Millisecond)
	f(ms(1, 2, 3, 4), 0.5, 2*time.Millisecond)
	f(ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5*time.Millisecond)
	f(ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10*time.Millisecond)
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	f(ms(hundred...), 0.99, 99*time.Millisecond)
	f(ms(hundred...), 1, 100*time.Millisecond)
}
