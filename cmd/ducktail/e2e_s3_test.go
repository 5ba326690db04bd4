package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ducktail/ducktail/storage/s3/miniotest"
)

// TestS3RestartOnEmptyDisk: with storage.kind s3 (a real MinIO), a server
// restarted on an empty data dir recovers every stream from the bucket: the
// config's topic and one made through the admin API, with the same ids and
// values, readable over HTTP and SQL, and new ids continue.
func TestS3RestartOnEmptyDisk(t *testing.T) {
	const bucket = "ducktail-e2e"
	srv := miniotest.StartTest(t, bucket)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ducktail.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
storage:
  kind: s3
  s3: {bucket: %s, prefix: e2e/, endpoint: %q, region: us-east-1, path_style: true}
streams:
  - name: demo/events
    schema:
      fields:
        - {name: timestamp, type: int64}
        - {name: event, type: utf8}
        - {name: value, type: float64}
`, bucket, srv.Endpoint)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_ACCESS_KEY_ID=" + miniotest.User, "AWS_SECRET_ACCESS_KEY=" + miniotest.Password,
		"DUCKTAIL_ADMIN_KEY=e2e-admin-key"}

	rows := func(n, base int) []demoRow {
		out := make([]demoRow, n)
		for i := range out {
			out[i] = demoRow{Timestamp: int64(base + i), Event: "s3", Value: float64(base + i)}
		}
		return out
	}
	p := startProc(t, filepath.Join(dir, "a"), cfg, env...)
	if !strings.Contains(p.banner, "s3://"+bucket+"/e2e/") {
		t.Fatalf("banner does not name the bucket: %s", p.banner)
	}
	p.mustIngest(rows(100, 0))
	p.mustIngest(rows(50, 100))
	// A topic made through the admin API lives only in the catalog.
	p.mustDo(http.StatusCreated, http.MethodPost, "/_/topics", p.admin(), []byte(`{"name":"shop/orders","fields":[
		{"name":"timestamp","type":"int64"},{"name":"event","type":"utf8"},{"name":"value","type":"float64"}]}`))
	var tok struct {
		Token string `json:"token"`
	}
	json.Unmarshal(p.mustDo(http.StatusOK, http.MethodPost, "/_/tokens", p.admin(), []byte(`{"topic":"shop/orders"}`)), &tok)
	if code, _, b, err := p.ingest(tok.Token, nil, rows(7, 1000)); err != nil || code != http.StatusOK {
		t.Fatalf("ingest into shop/orders: %d %v %s", code, err, b)
	}
	p.flush()
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}

	// An empty disk: a new data dir, same bucket.
	p = startProc(t, filepath.Join(dir, "b"), cfg, env...)
	evs := p.readJSON("?limit=1000")
	if len(evs) != 150 {
		t.Fatalf("recovered %d demo events, want 150", len(evs))
	}
	for i, ev := range evs {
		if ev.ID != int64(i) || ev.Data.Value != float64(i) || ev.Data.Event != "s3" {
			t.Fatalf("event %d after recovery: %+v", i, ev)
		}
	}
	body := p.mustDo(http.StatusOK, http.MethodGet, "/shop/orders", p.admin(), nil)
	var orders []jsonEvent
	if err := json.Unmarshal(body, &orders); err != nil || len(orders) != 7 || orders[6].Data.Value != 1006 {
		t.Fatalf("shop/orders after recovery: %v %s", err, body)
	}
	if got := strings.TrimSpace(string(p.sql(`select count(*) as n, sum(value) as s from demo.events`))); got != `[{"n":150,"s":11175}]` {
		t.Fatalf("sql after recovery: %s", got)
	}
	if ack := p.mustIngest(rows(1, 150)); ack.FirstID != 150 {
		t.Fatalf("ids after recovery start at %d, want 150", ack.FirstID)
	}
}
