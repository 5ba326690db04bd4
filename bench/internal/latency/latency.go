// Package latency summarises the latencies the bench tools measure
// (loadgen, rangeread, fanout) the same way: nearest-rank percentiles in
// milliseconds, and one-line JSON reports for bench/run.sh. It imports only
// the standard library.
package latency

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Percentile returns the nearest-rank q-quantile of sorted, 0 when empty.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Ms is d in milliseconds, to the microsecond.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Summary sorts all and returns its p50, p99 and maximum in milliseconds.
func Summary(all []time.Duration) (p50, p99, maxMs float64) {
	slices.Sort(all)
	if len(all) == 0 {
		return 0, 0, 0
	}
	return Ms(Percentile(all, 0.5)), Ms(Percentile(all, 0.99)), Ms(all[len(all)-1])
}

// JSON is v as one line of JSON, or an {"error"} line if it cannot be.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return string(b)
}
