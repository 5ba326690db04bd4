// Command noop is the baseline server of `make bench` (bench/run.sh): a
// fasthttp server that reads each request body and answers 200 with a small
// JSON body shaped like ducktail's ingest answer, doing nothing else. The
// rate it reaches with bench/loadgen is the HTTP layer's own limit on this
// machine, against which ducktail's ingest rate is compared.
//
// Its fasthttp.Server settings are those of server.New where they matter
// for throughput: MaxRequestBodySize 1 MiB, read/write timeouts 60 s, idle
// timeout 120 s, ReduceMemoryUsage off, no default Content-Type.
//
//	noop -listen 127.0.0.1:0
//
// prints "noop listening on http://ADDR" and serves until SIGINT or SIGTERM.
//
// Concurrency: fasthttp runs the handler on many goroutines; the handler
// keeps no state. Imports: the standard library and fasthttp only.
package main
