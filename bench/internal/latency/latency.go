// Package latency summarises the latencies the bench tools measure
// (loadgen, rangeread, fanout) the same way: nearest-rank percentiles in
// milliseconds, and one-line JSON reports for bench/run.sh; and checks
// the target flags those tools share. It imports only
// the standard library.
package latency

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
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

// CheckTarget checks the -url and -stream flags of the tools that talk to a
// ducktail on this machine: base must be http://127.0.0.1:PORT and stream
// ACCOUNT/NAME. It returns base without a trailing slash.
func CheckTarget(base, stream string) (string, []error) {
	var errs []error
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
		errs = append(errs, fmt.Errorf("-url: %q: want http://127.0.0.1:PORT", base))
	}
	if !IsStream(stream) {
		errs = append(errs, fmt.Errorf("-stream: %q: want ACCOUNT/NAME", stream))
	}
	return strings.TrimSuffix(base, "/"), errs
}

// IsStream reports whether stream is of the form ACCOUNT/NAME.
func IsStream(stream string) bool {
	a, n, ok := strings.Cut(stream, "/")
	return ok && a != "" && n != "" && !strings.ContainsAny(n, "/?#[]()")
}
