// Command loadgen is the HTTP load generator of `make bench` (bench/run.sh).
//
// It posts pre-built request bodies to one URL on 127.0.0.1 over N
// concurrent keep-alive connections (fasthttp's HostClient), until a fixed
// duration has passed or a maximum number of requests has been sent,
// whichever comes first, so it always stops by itself. It refuses any host
// but 127.0.0.1: it is a loopback benchmark, not a tool to load other
// machines.
//
// It builds its bodies itself: Arrow IPC streams of the demo topic's schema
// (timestamp int64, event utf8, value float64) with the number of rows
// chosen so that each stream is about -body bytes, in a few variants that
// are rotated so that no two consecutive requests carry the same bytes.
// Other content types get JSON objects of exactly -body bytes (one Pipet
// event each); -parts N instead sends multipart/mixed bulk pushes of N such
// JSON events (one request, N rows).
//
// A 429 or 503 answer is counted as an error and, unless -backoff=false,
// makes its connection wait as the answer's X-Retry-After-Ms (else
// Retry-After) asks, at most 1 s, as a well-behaved client would; the time
// waited is reported. Without it a server shedding load would be measured
// answering a flood of instant 503s instead of its sustained rate.
//
// It reports requests/s, MB/s of request bodies answered 2xx, rows/s,
// p50/p99/max latency and error counts by status ("conn" for transport
// errors, "timeout" for timeouts) as one JSON line on stdout (for
// bench/run.sh) and one human-readable line on stderr. It exits 1 when no
// request succeeded.
//
//	loadgen -url http://127.0.0.1:8080/ingest/TOKEN -c 16 -d 10s -n 1000000 -body 100KiB
//
// With -baseline URL it loads two servers in turn: after a warm-up of
// each, -slices slices of -d/-slices, the baseline then the target, so
// that both see the same good and bad moments of a shared machine (whose
// speed was seen to drift by half within a minute: back-to-back runs of
// 10 s compared the drift as much as the servers). It prints the
// baseline's JSON line, then the target's, which adds the ratio of the
// target's requests/s to the baseline's in each pair of slices and their
// median.
//
// Concurrency: each connection is served by one goroutine with its own
// request, response and latency buffer; results are merged after all of
// them have stopped. The package has no package-level mutable state.
//
// Imports: the standard library, arrow-go and fasthttp; nothing of ducktail.
package main
