#!/usr/bin/env bash
# bench/run.sh: the benchmarks of `make bench` (SPEC 7), in one run, as ratios
# against baselines measured in the same run on the same machine:
#   (a) HTTP ingest: bench/loadgen posts ~100 KiB Arrow IPC bodies over 16
#       connections, ~10 s in all to each, to bench/noop (the HTTP layer's
#       own limit) and to ducktail with durability sync, then to noop and
#       ducktail with durability buffered;
#   (b) Parquet flush: storage/segment BenchmarkWrite (segment.Write against
#       a raw pqarrow write of the same rows);
#   (c) ingest allocations: server BenchmarkIngestAlloc at 10 and 100 KiB
#       (B/op must not grow with the body) and BenchmarkNoopHandler;
#   (d) the WAL's BenchmarkAppendWait at 100 KiB records, when present;
#   (e) single Pipet JSON events at 32 connections, against noop;
#   (f) multipart/mixed bulk pushes of 100 JSON events at 32 connections,
#       sync acks, against noop answering the same bodies;
#   (g) 1,000-event range reads by id (?from=&to= and .slice) at random
#       offsets of a 10,000,000-event stream against a 100,000-event one,
#       both filled by bench/fill into one data dir served by one ducktail,
#       with a CPU profile of the server during the 10M reads;
#   (h) one event at a time fanned out to 1,000 SSE subscribers
#       (bench/fanout): delivery latency and missed deliveries.
# It prints one markdown table and writes it, with the raw numbers, to
# bench/results/latest.md. Everything it starts is stopped on exit.
#
# The HTTP rate benchmarks (a), (e) and (f) run the no-op baseline and
# ducktail side by side and load them in turn, BENCH_SLICES (5) slices of
# each (loadgen -baseline): this machine's speed drifts by tens of percent
# within a minute, and back-to-back runs compared the drift as much as the
# servers. Their ratio is the median of the slice-by-slice ratios, shown
# with the lowest and highest.
#
# Knobs (environment): BENCH_DURATION (10s per server), BENCH_CONNS (16),
# BENCH_BODY (100KiB), BENCH_WARMUP (3s), BENCH_SLICES (5), GO (go); BENCH selects the parts, a comma
# list of ingest (a), go (b, c, d), events (e), bulk (f), range (g) and
# fanout (h), default all; BENCH_BULK_PARTS (100), BENCH_BULK_PART (100B),
# BENCH_RANGE_DURATION (10s per form, the two streams in turn), BENCH_RANGE_DATA (a data
# dir to fill once and reuse; default a fresh one per run),
# BENCH_FANOUT_SUBS (1000), BENCH_FANOUT_RATE (50), BENCH_FANOUT_DURATION
# (10s).
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
TAGS=duckdb_arrow
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNS:-16}
BODY=${BENCH_BODY:-100KiB}
WARMUP=${BENCH_WARMUP:-3s}
SLICES=${BENCH_SLICES:-5}
OUT=bench/results/latest.md
BENCH=${BENCH:-ingest,go,events,bulk,range,fanout}
# want PART: whether BENCH selects PART.
want() { [[ ",$BENCH," == *",$1,"* ]]; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ducktail-bench.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- build
say "building ducktail, loadgen and noop"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
# Same flags as the Makefile's build target, so `make bench` does not relink.
$GO build -tags $TAGS -ldflags "-X main.version=$version" -o bin/ducktail ./cmd/ducktail
$GO build -o "$work/loadgen" ./bench/loadgen
$GO build -o "$work/noop" ./bench/noop
if want range; then
	$GO build -tags $TAGS -o "$work/fill" ./bench/fill
	$GO build -o "$work/rangeread" ./bench/rangeread
fi
if want fanout; then
	$GO build -o "$work/fanout" ./bench/fanout
	# A subscriber is a connection, on both sides: raise the soft limit.
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 8192 2>/dev/null || true
fi

# start NAME CMD... runs CMD in the background with stdout in $work/NAME.out,
# waits for its "listening on http://ADDR" line and sets $addr and $pid.
start() {
	local name=$1
	shift
	"$@" >"$work/$name.out" 2>"$work/$name.err" &
	pid=$!
	pids+=("$pid")
	addr=
	local i
	for i in $(seq 1 600); do
		addr=$(sed -n 's/.*listening on http:\/\/\([0-9.:]*\).*/\1/p' "$work/$name.out" | head -n 1)
		[ -n "$addr" ] && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$work/$name.err" >&2; die "$name exited before listening"; }
		sleep 0.1
	done
	die "$name did not start listening within 60 s"
}

# stop PID sends SIGTERM and waits for the process (ducktail flushes first).
stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]+"${keep[@]}"}")
}

# pairgen LABEL URL BASELABEL BASEURL [loadgen flags...] loads BASEURL and
# URL in alternating slices; it writes the baseline's JSON line to
# $work/BASELABEL.json, the target's to $work/LABEL.json, and the human
# lines to $work/human.txt and stderr.
pairgen() {
	local label=$1 url=$2 blabel=$3 burl=$4
	shift 4
	"$work/loadgen" -label "$label" -url "$url" -baseline-label "$blabel" -baseline "$burl" \
		-slices "$SLICES" -d "$DURATION" -warmup "$WARMUP" -n 100000000 "$@" \
		>"$work/$label.pair" 2>"$work/$label.human" || true
	sed -n 1p "$work/$label.pair" >"$work/$blabel.json"
	sed -n 2p "$work/$label.pair" >"$work/$label.json"
	cat "$work/$label.human" | tee -a "$work/human.txt" >&2
}

# jnum JSON KEY extracts a number from a flat JSON line.
jnum() { sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" <<<"$1" | head -n 1; }
# jerr JSON prints the errors object, or "none", and the time connections
# spent backing off as 429/503 answers asked.
jerr() {
	local e b
	e=$(sed -n 's/.*"errors":{\([^}]*\)}.*/\1/p' <<<"$1" | tr -d '"')
	b=$(jnum "$1" backoff_s)
	awk -v e="${e:-none}" -v b="${b:-0}" 'BEGIN { if (b + 0 > 0) printf "%s (%.1f conn-s backoff)\n", e, b; else print e }'
}

# ducktail_ingest DURABILITY starts a fresh ducktail with the demo topic and
# sets $tok to its ingest token (and $addr, $pid as start does).
ducktail_ingest() {
	local durability=$1 dir="$work/data-$1"
	mkdir -p "$dir"
	cat >"$work/ducktail-$durability.yaml" <<YAML
durability: $durability
streams:
  - name: demo/events
    schema:
      fields:
        - {name: timestamp, type: int64}
        - {name: event, type: utf8}
        - {name: value, type: float64}
YAML
	start "ducktail-$durability" env DUCKTAIL_ADMIN_KEY=bench-admin-key ./bin/ducktail serve \
		--config "$work/ducktail-$durability.yaml" --data "$dir" --listen 127.0.0.1:0 --log-level warn
	tok=$(sed -n 's/^ingest token for demo\/events[^:]*: \([0-9a-f]\{64\}\)$/\1/p' "$work/ducktail-$durability.out" | head -n 1)
	[ -n "$tok" ] || die "no ingest token in ducktail's output"
}

# ---------------------------------------------------------------- (a) HTTP ingest
noop= sync= buffered=
if want ingest; then
	start noop "$work/noop" -listen 127.0.0.1:0
	noop_addr=$addr noop_pid=$pid
	for durability in sync buffered; do
		say "(a) ducktail, durability $durability, against noop: $CONNS conns, $BODY bodies, $SLICES slices of each"
		ducktail_ingest "$durability"
		pairgen "ducktail-$durability" "http://$addr/ingest/$tok" "noop-$durability" "http://$noop_addr/ingest/noop" \
			-c "$CONNS" -body "$BODY"
		stop "$pid"
	done
	stop "$noop_pid"
	noop=$(cat "$work/noop-sync.json")
	sync=$(cat "$work/ducktail-sync.json")
	buffered=$(cat "$work/ducktail-buffered.json")
fi

# ---------------------------------------------------------------- (e) Pipet single events
EV_CONNS=${BENCH_EVENT_CONNS:-32}
EV_BODY=${BENCH_EVENT_BODY:-200B}
noop_ev= duck_ev= ev_wal=
# walstats ADDR STREAM prints the server's mean WAL fsync in ms and the
# events of STREAM acknowledged per fsync, from its /metrics: with one fsync
# at a time and a fixed number of connections, the fsync's latency on this
# machine's disk bounds the synced rate, so the table shows it beside it.
walstats() {
	curl -fsS -H "Authorization: Bearer bench-admin-key" "http://$1/metrics" 2>/dev/null |
		awk -v s="$2" '$1 == "ducktail_wal_fsync_seconds_sum" { sum = $2 }
			$1 == "ducktail_wal_fsync_seconds_count" { n = $2 }
			$1 == "ducktail_stream_rows_ingested_total{stream=\"" s "\"}" { rows = $2 }
			END { if (n > 0) printf "%.3f / %.1f\n", sum / n * 1000, rows / n; else print "n/a" }'
}
if want events; then
	say "(e) single JSON events (POST /user/bench), durability sync, against noop: $EV_CONNS conns, $EV_BODY bodies"
	start noop-ev "$work/noop" -listen 127.0.0.1:0
	noop_addr=$addr noop_pid=$pid
	mkdir -p "$work/data-events"
	start ducktail-events env DUCKTAIL_ADMIN_KEY=bench-admin-key ./bin/ducktail serve \
		--data "$work/data-events" --listen 127.0.0.1:0 --log-level warn
	pairgen ducktail-events "http://$addr/user/bench" noop-events "http://$noop_addr/user/bench" \
		-c "$EV_CONNS" -body "$EV_BODY" -content-type application/json -H "Authorization: Bearer bench-admin-key"
	ev_wal=$(walstats "$addr" user/bench)
	stop "$pid"
	stop "$noop_pid"
	noop_ev=$(cat "$work/noop-events.json")
	duck_ev=$(cat "$work/ducktail-events.json")
fi

# ---------------------------------------------------------------- (f) Pipet bulk pushes
BULK_PARTS=${BENCH_BULK_PARTS:-100}
BULK_PART=${BENCH_BULK_PART:-100B}
noop_bulk= duck_bulk=
if want bulk; then
	say "(f) bulk pushes (POST /user/bulk, multipart/mixed of $BULK_PARTS × $BULK_PART JSON events), durability sync, against noop: $EV_CONNS conns"
	start noop-bulk "$work/noop" -listen 127.0.0.1:0
	noop_addr=$addr noop_pid=$pid
	mkdir -p "$work/data-bulk"
	start ducktail-bulk env DUCKTAIL_ADMIN_KEY=bench-admin-key ./bin/ducktail serve \
		--data "$work/data-bulk" --listen 127.0.0.1:0 --log-level warn
	pairgen ducktail-bulk "http://$addr/user/bulk" noop-bulk "http://$noop_addr/user/bulk" \
		-c "$EV_CONNS" -body "$BULK_PART" -parts "$BULK_PARTS" -H "Authorization: Bearer bench-admin-key"
	stop "$pid"
	stop "$noop_pid"
	noop_bulk=$(cat "$work/noop-bulk.json")
	duck_bulk=$(cat "$work/ducktail-bulk.json")
fi

# ---------------------------------------------------------------- (g) range reads
RANGE_D=${BENCH_RANGE_DURATION:-10s}
SMALL=100000 LARGE=10000000
declare -A rr=()
if want range; then
	rdata=${BENCH_RANGE_DATA:-$work/data-range}
	say "(g) filling $rdata: bench/r100k ($SMALL events), bench/r10m ($LARGE events)"
	"$work/fill" -data "$rdata" -stream "bench/r100k=$SMALL" -stream "bench/r10m=$LARGE" 2>&1 |
		tee "$work/fill.txt" >&2 || die "bench/fill failed"
	start ducktail-range env DUCKTAIL_ADMIN_KEY=bench-admin-key ./bin/ducktail serve \
		--data "$rdata" --listen 127.0.0.1:0 --log-level warn
	for form in query slice; do
		# The two streams are read in turn, request by request (rangeread
		# -baseline-stream): both see the same moments of this machine.
		say "(g) 1,000-event reads of bench/r100k and bench/r10m in turn, $form form, $RANGE_D"
		prof=
		if [ "$form" = query ]; then
			# A CPU profile of the server during these reads (both streams).
			curl -s -H "Authorization: Bearer bench-admin-key" -o "$work/range.pprof" \
				"http://$addr/_/debug/pprof/profile?seconds=4" &
			prof=$!
		fi
		"$work/rangeread" -label "range-r10m-$form" -url "http://$addr" -stream bench/r10m -events "$LARGE" \
			-baseline-label "range-r100k-$form" -baseline-stream bench/r100k -baseline-events "$SMALL" \
			-form "$form" -d "$RANGE_D" -warmup 1s -auth "Bearer bench-admin-key" \
			>"$work/range-$form.json" 2>"$work/range-$form.human" || true
		[ -n "$prof" ] && { wait "$prof" || true; }
		cat "$work/range-$form.human" | tee -a "$work/human.txt" >&2
		rr[r100k-$form]=$(sed -n 1p "$work/range-$form.json")
		rr[r10m-$form]=$(sed -n 2p "$work/range-$form.json")
	done
	stop "$pid"
	if [ -s "$work/range.pprof" ]; then
		$GO tool pprof -top -nodecount=25 bin/ducktail "$work/range.pprof" >"$work/range-pprof.txt" 2>/dev/null || true
		$GO tool pprof -top -cum -nodecount=25 bin/ducktail "$work/range.pprof" >>"$work/range-pprof.txt" 2>/dev/null || true
	fi
fi

# ---------------------------------------------------------------- (h) SSE fan-out
FAN_SUBS=${BENCH_FANOUT_SUBS:-1000}
FAN_RATE=${BENCH_FANOUT_RATE:-50}
FAN_D=${BENCH_FANOUT_DURATION:-10s}
fan=
if want fanout; then
	say "(h) fan-out: $FAN_SUBS SSE subscribers, $FAN_RATE events/s for $FAN_D (fd limit $(ulimit -n))"
	mkdir -p "$work/data-fanout"
	start ducktail-fanout env DUCKTAIL_ADMIN_KEY=bench-admin-key ./bin/ducktail serve \
		--data "$work/data-fanout" --listen 127.0.0.1:0 --log-level warn
	# A CPU profile of the server while events are posted (after ~2 s of connecting).
	(sleep 2 && curl -s -H "Authorization: Bearer bench-admin-key" -o "$work/fanout.pprof" \
		"http://$addr/_/debug/pprof/profile?seconds=4") &
	prof=$!
	"$work/fanout" -label fanout -url "http://$addr" -stream bench/fanout -subs "$FAN_SUBS" -rate "$FAN_RATE" \
		-d "$FAN_D" -auth "Bearer bench-admin-key" >"$work/fanout.json" 2>"$work/fanout.human" || true
	wait "$prof" || true
	if [ -s "$work/fanout.pprof" ]; then
		$GO tool pprof -top -nodecount=20 bin/ducktail "$work/fanout.pprof" >"$work/fanout-pprof.txt" 2>/dev/null || true
		$GO tool pprof -top -cum -nodecount=30 bin/ducktail "$work/fanout.pprof" >>"$work/fanout-pprof.txt" 2>/dev/null || true
	fi
	cat "$work/fanout.human" | tee -a "$work/human.txt" >&2
	stop "$pid"
	fan=$(cat "$work/fanout.json")
fi

# ---------------------------------------------------------------- go benchmarks
gobench() { # FILE ARGS...: runs go test benchmarks, output to FILE and stderr
	local f=$1
	shift
	$GO test -tags $TAGS -run '^$' -timeout 150s "$@" 2>&1 | tee "$f" >&2 || true
}
if want go; then
	say "(b) Parquet write: storage/segment BenchmarkWrite"
	gobench "$work/segment.txt" -bench BenchmarkWrite -benchtime 3x ./storage/segment/
	say "(c) ingest allocations: server BenchmarkIngestAlloc, BenchmarkNoopHandler"
	gobench "$work/alloc.txt" -bench 'BenchmarkIngestAlloc|BenchmarkNoopHandler' -benchtime 1s ./server/
	if [ -d engine/wal ]; then
		say "(d) WAL: engine/wal BenchmarkAppendWait at 100 KiB"
		gobench "$work/wal.txt" -bench 'BenchmarkAppendWait/size=100KiB' -benchtime 1s ./engine/wal/
	fi
fi

# bfield FILE BENCH UNIT prints the value before UNIT on the line of BENCH
# (its name without the -GOMAXPROCS suffix).
bfield() {
	[ -f "$1" ] || return 0
	awk -v b="$2" -v u="$3" '{ n = $1; sub(/-[0-9]+$/, "", n) } n == b { for (i = 3; i <= NF; i++) if ($i == u) { print $(i-1); exit } }' "$1"
}

# ---------------------------------------------------------------- table
# pratio JSON prints a paired run's ratio: the median of its slice-by-slice
# ratios and, in brackets, the lowest and the highest; n/a without them.
pratio() {
	local r
	r=$(sed -n 's/.*"slice_ratios":\[\([^]]*\)\].*/\1/p' <<<"$1")
	awk -v r="$r" -v m="$(jnum "$1" ratio_median)" 'BEGIN {
		n = split(r, x, ",")
		if (n == 0 || m == "") { print "n/a"; exit }
		lo = x[1] + 0; hi = lo
		for (i = 2; i <= n; i++) { if (x[i] + 0 < lo) lo = x[i] + 0; if (x[i] + 0 > hi) hi = x[i] + 0 }
		printf "%.3g (%.3g–%.3g)\n", m, lo, hi
	}'
}
# ratio A B prints A/B to 3 significant digits, or n/a.
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3g\n", a / b }'; }
or_na() { echo "${1:-n/a}"; }
fmt1() { awk -v a="${1:-}" 'BEGIN { if (a == "") print "n/a"; else printf "%.1f\n", a }'; }

n_mb=$(jnum "$noop" mb_per_s)
nb_mb=$(jnum "$(cat "$work/noop-buffered.json" 2>/dev/null)" mb_per_s)
s_mb=$(jnum "$sync" mb_per_s)
b_mb=$(jnum "$buffered" mb_per_s)
seg_mb=$(bfield "$work/segment.txt" BenchmarkWrite/segment MB/s)
raw_mb=$(bfield "$work/segment.txt" BenchmarkWrite/raw-pqarrow MB/s)
seg_ratio=$(bfield "$work/segment.txt" BenchmarkWrite/ratio ratio)
a10=$(bfield "$work/alloc.txt" BenchmarkIngestAlloc/body=10KiB B/op)
a100=$(bfield "$work/alloc.txt" BenchmarkIngestAlloc/body=100KiB B/op)
c10=$(bfield "$work/alloc.txt" BenchmarkIngestAlloc/body=10KiB allocs/op)
c100=$(bfield "$work/alloc.txt" BenchmarkIngestAlloc/body=100KiB allocs/op)
i100=$(bfield "$work/alloc.txt" BenchmarkIngestAlloc/body=100KiB MB/s)
h100=$(bfield "$work/alloc.txt" BenchmarkNoopHandler/body=100KiB MB/s)
wal16=$(bfield "$work/wal.txt" BenchmarkAppendWait/size=100KiB/writers=16 MB/s)

table=$(
	echo "| metric | ducktail | baseline | ratio | target |"
	echo "|---|---|---|---|---|"
	if want ingest; then
		echo "| ingest MB/s, sync ($CONNS conns, $BODY, vs noop) | $(fmt1 "$s_mb") | $(fmt1 "$n_mb") | $(pratio "$sync") | ≥ 0.7 |"
		echo "| ingest MB/s, buffered (vs noop) | $(fmt1 "$b_mb") | $(fmt1 "$nb_mb") | $(pratio "$buffered") | — |"
		echo "| ingest p50 ms, sync / buffered (vs noop) | $(or_na "$(jnum "$sync" p50_ms)") / $(or_na "$(jnum "$buffered" p50_ms)") | $(or_na "$(jnum "$noop" p50_ms)") | $(ratio "$(jnum "$sync" p50_ms)" "$(jnum "$noop" p50_ms)") / $(ratio "$(jnum "$buffered" p50_ms)" "$(jnum "$noop" p50_ms)") | — |"
		echo "| ingest p99 ms, sync / buffered (vs noop) | $(or_na "$(jnum "$sync" p99_ms)") / $(or_na "$(jnum "$buffered" p99_ms)") | $(or_na "$(jnum "$noop" p99_ms)") | $(ratio "$(jnum "$sync" p99_ms)" "$(jnum "$noop" p99_ms)") / $(ratio "$(jnum "$buffered" p99_ms)" "$(jnum "$noop" p99_ms)") | — |"
		echo "| ingest errors, sync / buffered / noop | $(jerr "$sync") / $(jerr "$buffered") | $(jerr "$noop") | — | none |"
	fi
	if want go; then
		echo "| Parquet write MB/s (segment.Write vs raw pqarrow) | $(or_na "$seg_mb") | $(or_na "$raw_mb") | $(or_na "$seg_ratio") | ≥ 0.9 |"
		echo "| in-process ingest B/op (100 KiB vs 10 KiB body) | $(or_na "$a100") | $(or_na "$a10") | $(ratio "$a100" "$a10") | ≤ 1.0 (no growth) |"
		echo "| in-process ingest allocs/op (100 KiB vs 10 KiB body) | $(or_na "$c100") | $(or_na "$c10") | $(ratio "$c100" "$c10") | ≤ 1.0 |"
		echo "| in-process ingest MB/s, 100 KiB (vs no-op handler) | $(or_na "$i100") | $(or_na "$h100") | $(ratio "$i100" "$h100") | — |"
		echo "| WAL append+fsync MB/s, 100 KiB, 16 writers | $(or_na "$wal16") | — | — | — |"
	fi
	if want events; then
		echo "| single JSON events/s, sync acks ($EV_CONNS conns, $EV_BODY, vs noop) | $(fmt1 "$(jnum "$duck_ev" req_per_s)") | $(fmt1 "$(jnum "$noop_ev" req_per_s)") | $(pratio "$duck_ev") | ≥ 0.4 |"
		echo "| single events p50 / p99 ms (vs noop) | $(or_na "$(jnum "$duck_ev" p50_ms)") / $(or_na "$(jnum "$duck_ev" p99_ms)") | $(or_na "$(jnum "$noop_ev" p50_ms)") / $(or_na "$(jnum "$noop_ev" p99_ms)") | $(ratio "$(jnum "$duck_ev" p50_ms)" "$(jnum "$noop_ev" p50_ms)") / $(ratio "$(jnum "$duck_ev" p99_ms)" "$(jnum "$noop_ev" p99_ms)") | — |"
		echo "| single events errors (ducktail / noop) | $(jerr "$duck_ev") | $(jerr "$noop_ev") | — | none |"
		echo "| single events: WAL fsync mean ms / events per fsync | $(or_na "$ev_wal") | — | — | — |"
	fi
	if want bulk; then
		echo "| bulk events/s, multipart $BULK_PARTS × $BULK_PART, sync acks ($EV_CONNS conns, vs noop) | $(fmt1 "$(jnum "$duck_bulk" rows_per_s)") | $(fmt1 "$(jnum "$noop_bulk" rows_per_s)") | $(pratio "$duck_bulk") | — |"
		echo "| bulk requests/s (vs noop, same bodies) | $(fmt1 "$(jnum "$duck_bulk" req_per_s)") | $(fmt1 "$(jnum "$noop_bulk" req_per_s)") | $(pratio "$duck_bulk") | — |"
		echo "| bulk p50 / p99 ms (vs noop) | $(or_na "$(jnum "$duck_bulk" p50_ms)") / $(or_na "$(jnum "$duck_bulk" p99_ms)") | $(or_na "$(jnum "$noop_bulk" p50_ms)") / $(or_na "$(jnum "$noop_bulk" p99_ms)") | $(ratio "$(jnum "$duck_bulk" p50_ms)" "$(jnum "$noop_bulk" p50_ms)") / $(ratio "$(jnum "$duck_bulk" p99_ms)" "$(jnum "$noop_bulk" p99_ms)") | — |"
		echo "| bulk errors (ducktail / noop) | $(jerr "$duck_bulk") | $(jerr "$noop_bulk") | — | none |"
	fi
	if want range; then
		for form in query slice; do
			f='?from=X&to=X+1000'
			[ "$form" = slice ] && f='.slice(X,X+1000)'
			big=${rr[r10m-$form]:-} small=${rr[r100k-$form]:-}
			echo "| range read of 1,000 events, $f, JSON: p50 ms, 10M vs 100k events | $(or_na "$(jnum "$big" p50_ms)") | $(or_na "$(jnum "$small" p50_ms)") | $(ratio "$(jnum "$big" p50_ms)" "$(jnum "$small" p50_ms)") | < 5 ms, ≤ 1 |"
			echo "| range read, $f: p99 ms, 10M vs 100k | $(or_na "$(jnum "$big" p99_ms)") | $(or_na "$(jnum "$small" p99_ms)") | $(ratio "$(jnum "$big" p99_ms)" "$(jnum "$small" p99_ms)") | < 5 ms, ≤ 1 |"
			echo "| range read, $f: bytes an answer, 10M vs 100k | $(or_na "$(jnum "$big" answer_bytes)") | $(or_na "$(jnum "$small" answer_bytes)") | $(ratio "$(jnum "$big" answer_bytes)" "$(jnum "$small" answer_bytes)") | — |"
			echo "| range read errors, $f (10M / 100k) | $(jerr "$big") | $(jerr "$small") | — | none |"
		done
	fi
	if want fanout; then
		echo "| SSE fan-out delivery p50 / p99 / max ms ($(or_na "$(jnum "$fan" subscribers)") subscribers, $(or_na "$(jnum "$fan" sent)") events at $FAN_RATE/s) | $(or_na "$(jnum "$fan" p50_ms)") / $(or_na "$(jnum "$fan" p99_ms)") / $(or_na "$(jnum "$fan" max_ms)") | — | — | — |"
		echo "| SSE fan-out missed deliveries (of expected) | $(or_na "$(jnum "$fan" missed)") of $(or_na "$(jnum "$fan" expected)") | — | — | 0 |"
		echo "| SSE fan-out: POST p50 / p99 ms under fan-out, POST errors | $(or_na "$(jnum "$fan" post_p50_ms)") / $(or_na "$(jnum "$fan" post_p99_ms)"), $(sed -n 's/.*"post_errors":{\([^}]*\)}.*/\1/p' <<<"$fan" | tr -d '"' | sed 's/^$/none/') | — | — | none |"
	fi
)

mkdir -p bench/results
{
	echo "# make bench: latest results"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), BENCH=$BENCH, ducktail $version, $($GO version | cut -d' ' -f3-), $(nproc 2>/dev/null || echo '?') CPUs"
	echo
	echo "$table"
	echo
	echo "Ratios are ducktail/baseline in this run (for latency, higher is slower). Rates of (a), (e)"
	echo "and (f) come from alternating slices of the baseline and ducktail: the ratio is the median"
	echo "of the $SLICES slice-by-slice ratios, (lowest–highest)."
	echo "MB/s are 10^6 bytes of request bodies answered 2xx per second."
	echo "Range reads: one connection reading the two streams in turn, offsets X uniform over each stream;"
	echo "the ratio is the 10M-event stream's latency over the 100k-event stream's (≤ 1: reads must not"
	echo "slow down as a stream grows)."
	echo "Fan-out latency is receive time − send time of every delivery (one process sends and subscribes)."
	echo
	echo "## Raw numbers"
	echo
	echo '```'
	echo "# loadgen (JSON)"
	printf '%s\n' "$noop" "$sync" "$(cat "$work/noop-buffered.json" 2>/dev/null)" "$buffered" "$noop_ev" "$duck_ev" "$noop_bulk" "$duck_bulk" "${rr[@]}" "$fan" | sed '/^$/d'
	echo "# loadgen (human)"
	cat "$work/human.txt" 2>/dev/null || true
	if [ -f "$work/fill.txt" ]; then
		echo "# bench/fill"
		cat "$work/fill.txt"
	fi
	if [ -f "$work/range-pprof.txt" ]; then
		echo "# ducktail CPU profile during the 10M-event ?from=&to= reads"
		grep -v -E '^(File|Build ID|Type|Time):' "$work/range-pprof.txt" || true
	fi
	if [ -f "$work/fanout-pprof.txt" ]; then
		echo "# ducktail CPU profile during the SSE fan-out"
		grep -v -E '^(File|Build ID|Type|Time):' "$work/fanout-pprof.txt" || true
	fi
	for f in segment alloc wal; do
		[ -f "$work/$f.txt" ] || continue
		echo "# go test: $f"
		grep -E '^(Benchmark|goos|goarch|cpu|ok|FAIL|---|panic|\s+[a-z_]+\.go:)' "$work/$f.txt" || true
	done
	echo '```'
} >"$OUT"

echo
echo "$table"
echo
echo "written to $OUT"
