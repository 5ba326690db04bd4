package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ducktail/ducktail/bench/internal/latency"
)

// workerStats is what one connection's goroutine measured.
type workerStats struct {
	latencies []time.Duration // of every completed request, 2xx or not
	ok        int64
	okBytes   int64
	okRows    int64
	errors    map[string]int64 // by status code, "conn" or "timeout"
	backedOff time.Duration    // waited after 429 and 503 answers
}

// backoff waits d, but not past deadline, and counts the time waited.
func (w *workerStats) backoff(d time.Duration, deadline time.Time) {
	d = min(d, time.Until(deadline))
	if d <= 0 {
		return
	}
	w.backedOff += d
	time.Sleep(d)
}

func (w *workerStats) fail(key string) {
	if w.errors == nil {
		w.errors = map[string]int64{}
	}
	w.errors[key]++
}

// Result is the report of one run, printed as one JSON line.
type Result struct {
	Label       string           `json:"label,omitempty"`
	URL         string           `json:"url"`
	Conns       int              `json:"conns"`
	BodyBytes   int              `json:"body_bytes"`
	RowsPerBody int64            `json:"rows_per_body"`
	Seconds     float64          `json:"seconds"`
	Requests    int64            `json:"requests"`
	OK          int64            `json:"ok"`
	Errors      map[string]int64 `json:"errors"`
	ReqPerS     float64          `json:"req_per_s"`
	MBPerS      float64          `json:"mb_per_s"`
	RowsPerS    float64          `json:"rows_per_s"`
	P50Ms       float64          `json:"p50_ms"`
	P99Ms       float64          `json:"p99_ms"`
	MaxMs       float64          `json:"max_ms"`
	// BackoffS is the time connections spent waiting as 429 and 503
	// answers asked, summed over connections.
	BackoffS float64 `json:"backoff_s"`
	// Slices is the number of slices of a -baseline run. On the target's
	// line, SliceRatios are its requests/s over the baseline's in each
	// pair of adjacent slices, and RatioMedian their median.
	Slices      int       `json:"slices,omitempty"`
	SliceRatios []float64 `json:"slice_ratios,omitempty"`
	RatioMedian float64   `json:"ratio_median,omitempty"`
}

// median returns the median of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// merge sums the workers' figures over elapsed into a Result. MB/s counts
// the bodies of 2xx requests only, in units of 10^6 bytes.
func merge(ws []*workerStats, elapsed time.Duration) Result {
	r := Result{Errors: map[string]int64{}}
	var all []time.Duration
	var okBytes, okRows int64
	for _, w := range ws {
		all = append(all, w.latencies...)
		r.OK += w.ok
		okBytes += w.okBytes
		okRows += w.okRows
		r.BackoffS += w.backedOff.Seconds()
		for k, n := range w.errors {
			r.Errors[k] += n
		}
	}
	r.Requests = r.OK
	for _, n := range r.Errors {
		r.Requests += n
	}
	r.Seconds = elapsed.Seconds()
	if r.Seconds > 0 {
		r.ReqPerS = float64(r.Requests) / r.Seconds
		r.MBPerS = float64(okBytes) / 1e6 / r.Seconds
		r.RowsPerS = float64(okRows) / r.Seconds
	}
	r.P50Ms, r.P99Ms, r.MaxMs = latency.Summary(all)
	return r
}

// JSON is the one-line report for bench/run.sh.
func (r Result) JSON() string { return latency.JSON(r) }

// Human is the one-line report for people.
func (r Result) Human() string {
	errs := "no errors"
	if len(r.Errors) > 0 {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		errs = "errors"
		for _, k := range keys {
			errs += " " + k + ":" + strconv.FormatInt(r.Errors[k], 10)
		}
	}
	label := r.Label
	if label == "" {
		label = r.URL
	}
	if r.BackoffS > 0 {
		errs += fmt.Sprintf(", %.1f conn-s backing off", r.BackoffS)
	}
	line := fmt.Sprintf("%s: %d conns, %d B bodies: %.0f req/s, %.1f MB/s, %.0f rows/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d/%d ok, %s (%.1f s)",
		label, r.Conns, r.BodyBytes, r.ReqPerS, r.MBPerS, r.RowsPerS, r.P50Ms, r.P99Ms, r.MaxMs, r.OK, r.Requests, errs, r.Seconds)
	if len(r.SliceRatios) > 0 {
		line += fmt.Sprintf("; vs baseline, slice by slice: %.3g (median %.3g)", r.SliceRatios, r.RatioMedian)
	}
	return line
}
