package main

import (
	"fmt"
	"time"

	"github.com/ducktail/ducktail/bench/internal/latency"
)

// Result is the report, printed as one JSON line.
type Result struct {
	Label       string  `json:"label,omitempty"`
	Subscribers int     `json:"subscribers"`
	Rate        float64 `json:"rate"`
	ConnectS    float64 `json:"connect_s"` // until every subscriber was live
	Sent        int     `json:"sent"`
	// Expected is subscribers × sent; Delivered the distinct deliveries.
	Expected   int64            `json:"expected"`
	Delivered  int64            `json:"delivered"`
	Missed     int64            `json:"missed"`
	Duplicates int64            `json:"duplicates"`
	EndedEarly int              `json:"ended_early"`
	DrainS     float64          `json:"drain_s"` // after the last POST, until all had all (or -grace)
	P50Ms      float64          `json:"p50_ms"`
	P99Ms      float64          `json:"p99_ms"`
	MaxMs      float64          `json:"max_ms"`
	PostP50Ms  float64          `json:"post_p50_ms"`
	PostP99Ms  float64          `json:"post_p99_ms"`
	PostErrors map[string]int64 `json:"post_errors"`
}

func merge(c config, subs []*subscriber, sent int, postLat []time.Duration, postErrs map[string]int64, connectS float64, drain time.Duration) Result {
	r := Result{Label: c.label, Subscribers: len(subs), Rate: c.rate, ConnectS: connectS, Sent: sent,
		Expected: int64(len(subs)) * int64(sent), PostErrors: postErrs, DrainS: drain.Seconds()}
	var all []time.Duration
	for _, s := range subs {
		for seq := range min(sent, len(s.seen)) {
			if s.seen[seq] {
				r.Delivered++
			}
		}
		r.Duplicates += s.dups
		if s.endedEarly {
			r.EndedEarly++
		}
		all = append(all, s.lat...)
	}
	r.Missed = r.Expected - r.Delivered
	r.P50Ms, r.P99Ms, r.MaxMs = latency.Summary(all)
	r.PostP50Ms, r.PostP99Ms, _ = latency.Summary(postLat)
	return r
}

// JSON is the one-line report for bench/run.sh.
func (r Result) JSON() string { return latency.JSON(r) }

// Human is the one-line report for people.
func (r Result) Human() string {
	label := r.Label
	if label == "" {
		label = "fanout"
	}
	return fmt.Sprintf("%s: %d subscribers (live in %.1f s), %d events at %.0f/s: delivery p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d/%d delivered, %d missed, %d duplicates, %d ended early; POST p50 %.2f ms p99 %.2f ms, errors %v",
		label, r.Subscribers, r.ConnectS, r.Sent, r.Rate, r.P50Ms, r.P99Ms, r.MaxMs, r.Delivered, r.Expected, r.Missed, r.Duplicates, r.EndedEarly, r.PostP50Ms, r.PostP99Ms, r.PostErrors)
}
