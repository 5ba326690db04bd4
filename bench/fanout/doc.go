// Command fanout measures the delivery of events to many live subscribers
// of one Pipet-style stream, for `make bench` (bench/run.sh).
//
// It opens -subs subscriptions (GET /{account}/{stream}?data=true with
// Accept: text/event-stream), waits until every one has received the
// server's first flush, then POSTs -rate events a second for -d, each a
// JSON object carrying its sequence number and its send time (nanoseconds
// since the program started, so that sender and receivers share one
// monotonic clock). Every subscriber records, for each event, its receive
// time minus its send time. After the last POST it waits up to -grace for
// every subscriber to have every event, then reports delivery latency
// (p50/p99/max over all deliveries), missed deliveries (subscribers ×
// events sent − distinct deliveries; must be 0), duplicates, subscribers
// that were disconnected early, and the POSTs' own latency and errors: one
// JSON line on stdout, one human line on stderr. It exits 1 when a
// delivery was missed or a POST failed.
//
// The subscribers run in this process, one goroutine each, so on a small
// machine they compete with the server for CPU: the latency measured is
// that of the whole loopback system. Like bench/loadgen it only talks to
// 127.0.0.1. The package has no package-level mutable state.
package main
