package wal

import (
	"testing"
	"time"
)

// TestGatherPlan: the writer waits only after rounds of two or more
// records, for as many as the largest recent round held, at most one and a
// half fsyncs' time and never more than maxGather.
func TestGatherPlan(t *testing.T) {
	for _, c := range []struct {
		name     string
		rounds   []int
		syncs    []time.Duration
		records  int
		wait     time.Duration
		waitNone bool
	}{
		{name: "no rounds yet", waitNone: true},
		{name: "a lone appender", rounds: []int{1, 1, 1}, syncs: []time.Duration{time.Millisecond}, waitNone: true},
		{name: "concurrent appenders", rounds: []int{12, 20, 9}, syncs: []time.Duration{800 * time.Microsecond},
			records: 20, wait: 1200 * time.Microsecond},
		{name: "slow fsync is capped", rounds: []int{3}, syncs: []time.Duration{5 * time.Millisecond},
			records: 3, wait: maxGather},
		{name: "the peak ages out after 16 rounds", rounds: append([]int{30}, make16(2)...),
			syncs: []time.Duration{time.Millisecond}, records: 2, wait: 1500 * time.Microsecond},
		{name: "the average follows the fsyncs", rounds: []int{4},
			syncs: []time.Duration{800 * time.Microsecond, 1600 * time.Microsecond}, records: 4, wait: 1350 * time.Microsecond},
	} {
		var g gatherer
		for _, n := range c.rounds {
			g.observe(n)
		}
		for _, d := range c.syncs {
			g.synced(d)
		}
		records, wait := g.plan()
		if c.waitNone {
			if wait != 0 {
				t.Errorf("%s: waits %v for %d records, want no wait", c.name, wait, records)
			}
			continue
		}
		if records != c.records || wait != c.wait {
			t.Errorf("%s: waits %v for %d records, want %v for %d", c.name, wait, records, c.wait, c.records)
		}
	}
}

func make16(n int) []int {
	s := make([]int, 16)
	for i := range s {
		s[i] = n
	}
	return s
}
