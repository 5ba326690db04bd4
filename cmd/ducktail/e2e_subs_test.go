package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ducktail/ducktail/storage/s3/miniotest"
)

// subsConfig declares eric/events a factory with a blocked argument, beside
// the demo topic the process harness waits for.
const subsConfig = `
streams:
  - name: demo/events
    schema:
      fields:
        - {name: timestamp, type: int64}
  - name: eric/events
    factory: true
    blocklist: {arguments: ["'bad'"], referers: [spam.example]}
`

// subsWrite posts the seed's example and checks the ids.
func subsWrite(t *testing.T, p *proc) {
	t.Helper()
	hdr := p.admin()
	hdr["Content-Type"] = "text/plain"
	for _, c := range []struct {
		path, body, want string
	}{
		{"/eric/events(1)", "a", "0"}, {"/eric/events(1)", "b", "1"}, {"/eric/events(2)", "c", "0"},
		{"/eric/events('bad')", "spam", "null"},
	} {
		code := http.StatusOK
		if c.want == "null" {
			code = http.StatusAccepted
		}
		if got := strings.TrimSpace(string(p.mustDo(code, http.MethodPost, c.path, hdr, []byte(c.body)))); got != c.want {
			t.Fatalf("POST %s: %s, want %s", c.path, got, c.want)
		}
	}
	p.mustDo(http.StatusBadRequest, http.MethodPost, "/eric/events", hdr, []byte("x"))
}

const subsSQL = `select _sub, count(*) as n, max(_id) as last from eric.events group by _sub order by _sub`
const subsSQLWant = `[{"_sub":"1","n":2,"last":1},{"_sub":"2","n":1,"last":0}]`

// subsCheck checks what subsWrite wrote, over HTTP and SQL.
func subsCheck(t *testing.T, p *proc, stage string) {
	t.Helper()
	if b := string(p.mustDo(http.StatusOK, http.MethodGet, "/eric/events(1)", p.admin(), nil)); !strings.Contains(b, `"id":1,`) || !strings.Contains(b, `"data":"b"`) || !strings.Contains(b, `"sub":"1"`) {
		t.Fatalf("%s: GET (1): %s", stage, b)
	}
	p.mustDo(http.StatusNotFound, http.MethodGet, "/eric/events('bad')", p.admin(), nil)
	if got := strings.TrimSpace(string(p.sql(subsSQL))); got != subsSQLWant {
		t.Fatalf("%s: sql %s, want %s", stage, got, subsSQLWant)
	}
}

// TestSubstreamsCrashAndOfflineSQL: a factory from the config; substream
// events survive kill -9 with their ids; `ducktail sql --data` sees them.
func TestSubstreamsCrashAndOfflineSQL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "ducktail.yaml"), subsConfig)
	data := filepath.Join(dir, "data")
	p := startProc(t, data, cfg)
	subsWrite(t, p)
	p.kill9()
	p = startProc(t, data, cfg)
	subsCheck(t, p, "after kill -9")
	hdr := p.admin()
	hdr["Content-Type"] = "text/plain"
	if got := string(p.mustDo(http.StatusOK, http.MethodPost, "/eric/events(2)", hdr, []byte("d"))); got != "1" {
		t.Fatalf("(2) after kill -9: id %s, want 1", got)
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, key := range []string{"sub=1/00000000000000000000-00000000000000000001.parquet", "sub=2/00000000000000000000-00000000000000000001.parquet"} {
		if _, err := os.Stat(filepath.Join(data, "streams", "eric", "events", key)); err != nil {
			t.Errorf("segment layout: %v", err)
		}
	}
	res := runCLI(t, nil, "sql", "--data", data, "--format", "json", subsSQL)
	if want := `[{"_sub":"1","n":2,"last":1},{"_sub":"2","n":2,"last":1}]`; res.code != 0 || strings.TrimSpace(res.stdout) != want {
		t.Fatalf("ducktail sql: exit %d %q %q, want %s", res.code, res.stdout, res.stderr, want)
	}
}

// TestSubstreamsS3EmptyDisk: with S3, substreams come back on an empty disk.
func TestSubstreamsS3EmptyDisk(t *testing.T) {
	const bucket = "ducktail-subs"
	srv := miniotest.StartTest(t, bucket)
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "ducktail.yaml"), fmt.Sprintf(`
storage:
  kind: s3
  s3: {bucket: %s, prefix: subs/, endpoint: %q, region: us-east-1, path_style: true}
`, bucket, srv.Endpoint)+subsConfig)
	env := []string{"AWS_ACCESS_KEY_ID=" + miniotest.User, "AWS_SECRET_ACCESS_KEY=" + miniotest.Password,
		"DUCKTAIL_ADMIN_KEY=subs-admin-key"}
	p := startProc(t, filepath.Join(dir, "a"), cfg, env...)
	subsWrite(t, p)
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	p = startProc(t, filepath.Join(dir, "b"), cfg, env...)
	subsCheck(t, p, "on an empty disk")
	hdr := p.admin()
	hdr["Content-Type"] = "text/plain"
	if got := string(p.mustDo(http.StatusOK, http.MethodPost, "/eric/events(1)", hdr, []byte("e"))); got != "2" {
		t.Fatalf("(1) on an empty disk: id %s, want 2", got)
	}
}
