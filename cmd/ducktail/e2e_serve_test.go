package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestServeDefault runs the embedded default config end to end: start,
// ingest Arrow, read back as JSON, SQL from the CLI while the server runs,
// graceful stop, stock DuckDB over the segments, restart.
func TestServeDefault(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	p := startProc(t, data, "")
	if !strings.Contains(p.banner, "durability sync") || !strings.Contains(p.banner, "(data dir "+data+",") {
		t.Errorf("banner %q: want the data dir and durability sync", p.banner)
	}
	for _, name := range []string{"admin.key", "secret.key"} {
		st, err := os.Stat(filepath.Join(data, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(p.adminKey) {
		t.Errorf("admin key %q: want 64 hex characters", p.adminKey)
	}

	// Two requests: one batch of three rows, then one stream of two batches.
	first := []demoRow{{1, "click", 1.5}, {2, "view", 2.25}, {3, "click", -0.5}}
	second := [][]demoRow{{{4, "buy", 10}}, {{5, "é ✓", 100.125}}}
	if ack := p.mustIngest(first); ack.FirstID != 0 || ack.LastID != 2 {
		t.Errorf("first ack %+v, want ids 0..2", ack)
	}
	if ack := p.mustIngest(second...); ack.FirstID != 3 || ack.LastID != 4 {
		t.Errorf("second ack %+v, want ids 3..4", ack)
	}
	want := append(append([]demoRow{}, first...), second[0][0], second[1][0])

	evs := p.readJSON("")
	checkDemoEvents(t, evs, want, 0)
	if got := p.readJSON("?from=1&to=3"); len(got) != 2 || got[0].ID != 1 || got[1].ID != 2 {
		t.Errorf("from=1&to=3: %+v, want ids 1, 2", got)
	}
	if got := p.readJSON("?limit=2"); len(got) != 2 || got[1].ID != 1 {
		t.Errorf("limit=2: %+v, want ids 0, 1", got)
	}
	var one jsonEvent
	if err := json.Unmarshal(p.mustDo(200, "GET", "/demo/events[4]", p.admin(), nil), &one); err != nil || one.ID != 4 || one.Data.Value != 100.125 {
		t.Errorf("GET /demo/events[4]: %+v, %v", one, err)
	}

	// The offline CLI reads the same data while the server runs.
	res := runCLI(t, nil, "sql", "--data", data, "--format", "json", "select count(*) as n, sum(value) as s from demo.events")
	if res.code != 0 {
		t.Fatalf("ducktail sql: exit %d: %s", res.code, res.stderr)
	}
	var sums []struct {
		N int64   `json:"n"`
		S float64 `json:"s"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &sums); err != nil || len(sums) != 1 || sums[0].N != 5 || sums[0].S != 113.375 {
		t.Errorf("ducktail sql while serving: %q (%v), want n=5 s=113.375", res.stdout, err)
	}

	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	segs, _ := filepath.Glob(filepath.Join(data, demoPrefix, "*.parquet"))
	if len(segs) == 0 {
		t.Fatalf("no segment under %s after a graceful stop", filepath.Join(data, demoPrefix))
	}
	db := openDuckDB(t)
	var n, lo, hi, minTS int64
	var typ string
	q := "select count(*), min(_id), max(_id), typeof(min(_ts)), epoch_ms(min(_ts)) from read_parquet(" +
		sqlString(filepath.Join(data, demoPrefix, "*.parquet")) + ")"
	if err := db.QueryRow(q).Scan(&n, &lo, &hi, &typ, &minTS); err != nil {
		t.Fatal(err)
	}
	if n != 5 || lo != 0 || hi != 4 || typ != "TIMESTAMP WITH TIME ZONE" || minTS != evs[0].Timestamp {
		t.Errorf("stock DuckDB: count %d, ids [%d, %d], _ts %s min %d; want 5, [0, 4], TIMESTAMP WITH TIME ZONE, %d",
			n, lo, hi, typ, minTS, evs[0].Timestamp)
	}
	checkStreamFiles(t, db, data, 5)

	// Restart: the same events, the same timestamps, ids continue at 5.
	p2 := startProc(t, data, "")
	again := p2.readJSON("")
	checkDemoEvents(t, again, want, 0)
	for i := range min(len(again), len(evs)) {
		if again[i].Timestamp != evs[i].Timestamp {
			t.Errorf("event %d: _ts %d after restart, %d before", i, again[i].Timestamp, evs[i].Timestamp)
		}
	}
	if ack := p2.mustIngest([]demoRow{{6, "after", 7}}); ack.FirstID != 5 || ack.LastID != 5 {
		t.Errorf("ack after restart %+v, want id 5", ack)
	}
	checkDemoEvents(t, p2.readJSON(""), append(want, demoRow{6, "after", 7}), 0)
	if code := p2.stop(syscall.SIGINT); code != 0 {
		t.Errorf("exit code %d after SIGINT, want 0", code)
	}
	checkStreamFiles(t, db, data, 6)
}

// checkDemoEvents checks a JSON listing against the rows sent, the first
// having id from: ids in order, the Arrow event type, the payload, and
// timestamps that never go back.
func checkDemoEvents(t *testing.T, evs []jsonEvent, want []demoRow, from int64) {
	t.Helper()
	if len(evs) != len(want) {
		t.Errorf("%d events, want %d: %+v", len(evs), len(want), evs)
		return
	}
	for i, e := range evs {
		w := want[i]
		if e.ID != from+int64(i) || e.Event != arrowType || e.Tenant != nil ||
			e.Data.Timestamp != w.Timestamp || e.Data.Event != w.Event || e.Data.Value != w.Value {
			t.Errorf("event %d: %+v, want id %d event %s data %+v", i, e, from+int64(i), arrowType, w)
		}
		if e.Timestamp <= 0 || i > 0 && e.Timestamp < evs[i-1].Timestamp {
			t.Errorf("event %d: timestamp %d after %d", i, e.Timestamp, evs[max(i-1, 0)].Timestamp)
		}
	}
}
