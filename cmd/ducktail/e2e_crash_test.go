package main

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// crashConfig flushes often, so that kills land before, during and after
// segment writes and manifest commits.
const crashConfig = `durability: %s
flush:
  max_rows: 2000
  max_age: 300ms
streams:
  - name: demo/events
    schema:
      fields:
        - {name: timestamp, type: int64}
        - {name: event, type: utf8}
        - {name: value, type: float64}
`

// TestCrashKill9 loads the server with 8 concurrent clients and kills it
// with SIGKILL at a random moment, then restarts it on the same data dir and
// checks every row against what the clients sent and were acknowledged (see
// ledger.verify), /sql against the rows, and the files on disk against the
// manifest. Three cycles run with durability sync, one with buffered, then a
// final restart and a graceful stop. E2E_CRASH_SEED=N replays a seed.
func TestCrashKill9(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("E2E_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("E2E_CRASH_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (E2E_CRASH_SEED=%d replays the kill times and batch sizes)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	configs := map[string]string{}
	for _, d := range []string{"sync", "buffered"} {
		configs[d] = writeFile(t, filepath.Join(dir, d+".yaml"), fmt.Sprintf(crashConfig, d))
	}
	db := openDuckDB(t)
	l := newLedger()
	var n int64
	flushedMidLoad := 0
	for cycle, durability := range []string{"sync", "sync", "sync", "buffered"} {
		p := startProc(t, data, configs[durability])
		if !strings.HasSuffix(p.banner, "durability "+durability+")") {
			t.Errorf("cycle %d: banner %q, want durability %s", cycle, p.banner, durability)
		}
		if cycle > 0 {
			n = checkRecovered(t, p, l, db)
		}
		before := 0
		if m, ok := newestManifest(t, data); ok {
			before = len(m.Segments)
		}
		killAfter := time.Duration(1000+rng.IntN(2001)) * time.Millisecond
		st := runLoad(t, p, l, cycle, rng.Uint64(), killAfter)
		segs := 0
		if m, ok := newestManifest(t, data); ok {
			segs = len(m.Segments)
		}
		if segs > before {
			flushedMidLoad++
		}
		sent, acked, durable := l.counts()
		t.Logf("cycle %d (%s): %d rows at start; killed after %v: %d requests acked, %d refused with 503; segments %d -> %d; ledger: %d sent, %d acked, %d durable",
			cycle, durability, n, killAfter, st.acked, st.overCapacity, before, segs, sent, acked, durable)
		if st.acked == 0 {
			t.Fatalf("cycle %d: no request was acknowledged before the kill", cycle)
		}
	}
	if flushedMidLoad == 0 {
		t.Errorf("no segment was committed during any load: the kills never raced a flush")
	}

	p := startProc(t, data, configs["sync"])
	n = checkRecovered(t, p, l, db)
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	checkStreamFiles(t, db, data, n)
	res := runCLI(t, nil, "sql", "--data", data, "--format", "csv", "select count(*) as n from demo.events")
	if res.code != 0 || res.stdout != fmt.Sprintf("n\n%d\n", n) {
		t.Errorf("ducktail sql after the crashes: exit %d, %q, %s; want n=%d", res.code, res.stdout, res.stderr, n)
	}
}

// checkRecovered verifies a restarted server: its rows against the ledger,
// /sql against the rows, and, after a flush, the files on disk. It returns
// the number of rows.
func checkRecovered(t *testing.T, p *proc, l *ledger, db *sql.DB) int64 {
	t.Helper()
	start := time.Now()
	n := l.verify(t, p)
	read := time.Since(start)
	checkSQLCount(t, p, n)
	p.flush()
	segs := checkStreamFiles(t, db, p.data, n)
	t.Logf("recovered %d rows: read back and verified in %v; %d segments checked with DuckDB", n, read.Round(time.Millisecond), segs)
	return n
}

// loadStats are one load's counts.
type loadStats struct {
	acked, overCapacity int64
}

// runLoad runs crashClients clients that post batches of 1..400 rows until
// killAfter, then kills the server with SIGKILL and waits for the clients.
// Transport errors and unexpected statuses before the kill fail the test.
func runLoad(t *testing.T, p *proc, l *ledger, cycle int, seed uint64, killAfter time.Duration) loadStats {
	t.Helper()
	var (
		killed atomic.Bool
		stats  struct{ acked, overCapacity atomic.Int64 }
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, fmt.Sprintf(format, args...))
	}
	deadline := time.Now().Add(killAfter + 30*time.Second)
	for c := range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			for seq := 0; seq < maxSeq && !killed.Load() && time.Now().Before(deadline); seq++ {
				k := batchKey{cycle: cycle, client: c, seq: seq}
				rows := 1 + rng.IntN(400)
				l.sent(k, rows)
				code, ack, body, err := p.ingest(p.token, nil, batchRows(k, rows))
				switch {
				case err != nil:
					if !killed.Load() {
						fail("client %d: %s before the kill: %v", c, k.label(), err)
					}
					return
				case code == http.StatusServiceUnavailable:
					stats.overCapacity.Add(1)
				case code != http.StatusOK:
					fail("client %d: %s: status %d: %s", c, k.label(), code, body)
					return
				case ack.Rows != int64(rows) || ack.LastID-ack.FirstID+1 != int64(rows) || ack.Topic != "demo/events":
					fail("client %d: %s of %d rows acknowledged as %+v", c, k.label(), rows, ack)
					return
				default:
					l.acked(k, ack)
					stats.acked.Add(1)
				}
			}
		}()
	}
	timer := time.NewTimer(killAfter) // the kill is scheduled, not a wait for state
	<-timer.C
	killed.Store(true)
	p.kill9()
	wg.Wait()
	for _, e := range errs {
		t.Error(e)
	}
	return loadStats{acked: stats.acked.Load(), overCapacity: stats.overCapacity.Load()}
}

// TestRestartRemovesCrashLeftovers plants what a kill -9 leaves in the middle
// of a flush: a temporary segment file, a temporary manifest version and a
// committed segment that no manifest names. A restart must serve the stream
// as it was and leave no file under streams/ outside the manifest.
func TestRestartRemovesCrashLeftovers(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	p := startProc(t, data, "")
	want := []demoRow{{1, "a", 1}, {2, "b", 2}, {3, "c", 3}}
	p.mustIngest(want)
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	m, ok := newestManifest(t, data)
	if !ok || len(m.Segments) != 1 {
		t.Fatalf("after a graceful stop: manifest %+v, want one segment", m)
	}
	seg, err := os.ReadFile(filepath.Join(data, filepath.FromSlash(m.Segments[0].Key)))
	if err != nil {
		t.Fatal(err)
	}
	stream := filepath.Join(data, demoPrefix)
	planted := map[string][]byte{
		// A segment write interrupted before its rename.
		"00000000000000000003-00000000000000000009.parquet.tmp0123456789abcdef": seg[:len(seg)/2],
		// A manifest commit interrupted between its temporary file and the link.
		fmt.Sprintf("_manifest/%020d.json.tmpfedcba9876543210", m.Version+1): []byte(`{"version":`),
		// A segment renamed into place whose manifest commit never happened.
		"00000000000000000003-00000000000000000005.parquet": seg,
	}
	for name, b := range planted {
		if err := os.WriteFile(filepath.Join(stream, filepath.FromSlash(name)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p2 := startProc(t, data, "")
	checkDemoEvents(t, p2.readJSON(""), want, 0)
	if ack := p2.mustIngest([]demoRow{{4, "d", 4}}); ack.FirstID != 3 {
		t.Errorf("ack after restart %+v, want id 3", ack)
	}
	p2.flush()
	checkStreamFiles(t, openDuckDB(t), data, 4)
}
