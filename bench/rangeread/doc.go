// Command rangeread measures range reads by id of a Pipet-style stream over
// HTTP, for `make bench` (bench/run.sh): requests of -span events at a
// random offset X in [0, -events - -span], as
//
//	GET /{account}/{stream}?from=X&to=X+span        (-form query)
//	GET /{account}/{stream}.slice(X,X+span)         (-form slice)
//
// with Accept: application/json, over -c keep-alive connections (default 1:
// it measures latency, not throughput) for -d after an unmeasured -warmup.
// Every answer is checked: status 200, a JSON array of exactly span
// events, the first with id X; anything else counts as an error by kind.
//
// With -baseline-stream (and -baseline-events, -baseline-label) each
// connection reads the baseline stream and the stream in turn, request by
// request, so that both are measured over the same moments of a shared
// machine: comparing two runs one after the other measured the machine's
// drift as much as the streams.
//
// It prints one JSON line per stream on stdout, the baseline's first
// (p50/p99/max latency in ms, requests/s, errors), and one human-readable
// line each on stderr, and exits 1 when a stream had no read succeed. Like bench/loadgen it only talks to 127.0.0.1. The package
// has no package-level mutable state.
package main
