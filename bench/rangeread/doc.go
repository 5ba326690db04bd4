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
// It prints one JSON line on stdout (p50/p99/max latency in ms, requests/s,
// errors) and one human-readable line on stderr, and exits 1 when no read
// succeeded. Like bench/loadgen it only talks to 127.0.0.1. The package
// has no package-level mutable state.
package main
