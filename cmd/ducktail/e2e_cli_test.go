package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConfigErrors starts `ducktail serve` with bad configs: each must exit
// non-zero without listening, and stderr must name the offending key (and
// its line for unknown keys).
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := func(name, config string, want ...string) {
		t.Helper()
		path := writeFile(t, filepath.Join(dir, name+".yaml"), config)
		res := runCLI(t, nil, "serve", "--config", path, "--data", filepath.Join(dir, name), "--listen", "127.0.0.1:0")
		if res.code == 0 || strings.Contains(res.stdout, "listening") {
			t.Errorf("%s: exit %d, stdout %q: want a refusal", name, res.code, res.stdout)
			return
		}
		for _, w := range want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%s: stderr %q does not contain %q", name, res.stderr, w)
			}
		}
	}
	f("top-level-typo", "listen: 127.0.0.1:0\nflsuh:\n  max_rows: 10\n", `"flsuh"`, "line 2")
	f("nested-flow-typo", "durability: sync\nflush: {max_rowz: 1}\n", `"max_rowz"`, "line 2")
	f("nested-block-typo", "flush:\n  max_rows: 10\n  max_rowz: 1\n", `"max_rowz"`, "line 3")
	f("field-typo", `streams:
  - name: demo/events
    schema:
      fields:
        - {name: a, type: int64, nulable: true}
`, "nulable", "line 5")
	f("durability", "durability: maybe\n", "durability", "maybe")
	f("two-problems", "durability: maybe\nstorage: {kind: ftp}\n", "durability", "storage.kind")
	f("bad-type", `streams:
  - name: demo/events
    schema:
      fields:
        - {name: a, type: int65}
`, "streams[0].schema", "int65")
	f("blocklist-typo", "streams:\n  - name: a/s\n    factory: true\n    blocklist: {referer: [x]}\n", `"referer"`, "line 4")
	f("blocklist-argument", "streams:\n  - name: a/s\n    factory: true\n    blocklist: {arguments: [\"'open\"]}\n", "streams[0]", "blocklist.arguments[0]")
	f("topic-factory", "streams:\n  - name: a/s\n    factory: true\n    schema: {fields: [{name: a, type: int64}]}\n", "a/s", "factories of topics")
	missing := filepath.Join(dir, "no-such-file.yaml")
	if res := runCLI(t, nil, "serve", "--config", missing, "--listen", "127.0.0.1:0"); res.code == 0 || !strings.Contains(res.stderr, missing) {
		t.Errorf("missing config: exit %d, stderr %q: want a refusal naming the file", res.code, res.stderr)
	}
}

// TestTokenCLI checks that tokens printed by `ducktail token` work against a
// running server: plain, with a tenant, expired, domain-bound, tampered; and
// that it refuses a topic that does not exist.
func TestTokenCLI(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if res := runCLI(t, nil, "token", "--topic", "demo/events", "--data", data); res.code == 0 || !strings.Contains(res.stderr, "secret") {
		t.Errorf("token before the first start: exit %d, stderr %q: want a refusal naming the secret", res.code, res.stderr)
	}
	if res := runCLI(t, nil, "token", "--data", data); res.code != 2 || !strings.Contains(res.stderr, "--topic") {
		t.Errorf("token without --topic: exit %d, stderr %q: want exit 2 naming --topic", res.code, res.stderr)
	}
	p := startProc(t, data, "")
	mint := func(args ...string) string {
		t.Helper()
		res := runCLI(t, nil, append([]string{"token", "--data", data}, args...)...)
		tok := strings.TrimSpace(res.stdout)
		if res.code != 0 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
			t.Fatalf("ducktail token %v: exit %d, stdout %q, stderr %q", args, res.code, res.stdout, res.stderr)
		}
		return tok
	}
	post := func(tok string, hdr map[string]string) (int, ingestAck, string) {
		t.Helper()
		code, ack, body, err := p.ingest(tok, hdr, []demoRow{{1, "x", 1}})
		if err != nil {
			t.Fatal(err)
		}
		return code, ack, string(body)
	}

	plain := mint("--topic", "demo/events")
	if code, _, body := post(plain, nil); code != http.StatusOK {
		t.Errorf("token from the CLI: status %d: %s", code, body)
	}
	if code, _, body := post(p.token, nil); code != http.StatusOK {
		t.Errorf("token printed at start-up: status %d: %s", code, body)
	}

	tenant := mint("--topic", "demo/events", "--tenant", "7")
	code, ack, body := post(tenant, nil)
	if code != http.StatusOK {
		t.Fatalf("tenant token: status %d: %s", code, body)
	}
	var ev jsonEvent
	if err := json.Unmarshal(p.mustDo(200, "GET", "/demo/events["+strconv.FormatInt(ack.FirstID, 10)+"]", p.admin(), nil), &ev); err != nil ||
		ev.Tenant == nil || *ev.Tenant != 7 {
		t.Errorf("row written with a --tenant 7 token: %+v (%v), want tenant 7", ev, err)
	}

	// Bound to example.com: refused without Origin, accepted from it and
	// its subdomains, refused from other hosts.
	bound := mint("--topic", "demo/events", "--domain", "example.com")
	for _, c := range []struct {
		hdr  map[string]string
		want int
	}{
		{nil, http.StatusForbidden},
		{map[string]string{"Origin": "https://example.com"}, http.StatusOK},
		{map[string]string{"Origin": "https://app.example.com:8443"}, http.StatusOK},
		{map[string]string{"Referer": "https://example.com/page?q=1"}, http.StatusOK},
		{map[string]string{"Origin": "https://notexample.com"}, http.StatusForbidden},
		{map[string]string{"Origin": "https://example.com.evil.org"}, http.StatusForbidden},
	} {
		if code, _, body := post(bound, c.hdr); code != c.want {
			t.Errorf("--domain example.com token with %v: status %d, want %d: %s", c.hdr, code, c.want, body)
		}
	}

	tampered := []byte(plain)
	if tampered[63] == '0' {
		tampered[63] = '1'
	} else {
		tampered[63] = '0'
	}
	if code, _, body := post(string(tampered), nil); code != http.StatusUnauthorized {
		t.Errorf("tampered token: status %d, want 401: %s", code, body)
	}
	// No token for a topic that does not exist (it would only get 404s);
	// one made through the API gets one at once.
	if res := runCLI(t, nil, "token", "--data", data, "--topic", "demo/nope"); res.code == 0 || !strings.Contains(res.stderr, "no topic demo/nope") {
		t.Errorf("token for a topic that does not exist: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	p.mustDo(201, "POST", "/_/topics", p.admin(), []byte(`{"name":"demo/later","fields":[{"name":"x","type":"int64"}]}`))
	mint("--topic", "demo/later")

	// --ttl 1s: wait (at most 5 s) until the clock passes its expiry.
	short := mint("--topic", "demo/events", "--ttl", "1s")
	deadline := time.Now().Add(5 * time.Second)
	var last int
	for i := 0; i < 100 && time.Now().Before(deadline); i++ {
		if last, _, body = post(short, nil); last == http.StatusUnauthorized {
			if !strings.Contains(body, "expired") {
				t.Errorf("expired token: 401 %s, want the word expired", body)
			}
			break
		}
		if last != http.StatusOK {
			t.Fatalf("--ttl 1s token: status %d: %s", last, body)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	if last != http.StatusUnauthorized {
		t.Errorf("--ttl 1s token still accepted after 5 s (last status %d)", last)
	}
}

// TestSQLCLI runs `ducktail sql` over a stopped server's data dir in each
// output format, and checks that file access from SQL is refused.
func TestSQLCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startProc(t, data, "")
	p.mustIngest([]demoRow{{10, "a", 1.5}, {20, `say "hi", bob`, 2.25}}, []demoRow{{30, "ü", -3}})
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	const q = "select _id, event, value from demo.events order by _id"
	for _, c := range []struct{ format, want string }{
		{"json", `[{"_id":0,"event":"a","value":1.5},{"_id":1,"event":"say \"hi\", bob","value":2.25},{"_id":2,"event":"ü","value":-3}]`},
		{"ndjson", `{"_id":0,"event":"a","value":1.5}` + "\n" + `{"_id":1,"event":"say \"hi\", bob","value":2.25}` + "\n" + `{"_id":2,"event":"ü","value":-3}` + "\n"},
		{"csv", "_id,event,value\n0,a,1.5\n1,\"say \"\"hi\"\", bob\",2.25\n2,ü,-3\n"},
		{"table", "" +
			"_id | event         | value\n" +
			"----+---------------+------\n" +
			"0   | a             | 1.5  \n" +
			"1   | say \"hi\", bob | 2.25 \n" +
			"2   | ü             | -3   \n" +
			"(3 rows)\n"},
	} {
		res := runCLI(t, nil, "sql", "--data", data, "--format", c.format, q)
		got := res.stdout
		if c.format == "json" {
			got = strings.TrimSpace(got)
		}
		if res.code != 0 || got != c.want {
			t.Errorf("--format %s: exit %d, stderr %q\ngot:\n%s\nwant:\n%s", c.format, res.code, res.stderr, res.stdout, c.want)
		}
	}
	if res := runCLI(t, nil, "sql", "--data", data, "select count(*) as n from demo.events"); res.code != 0 || !strings.Contains(res.stdout, "(1 rows)") {
		t.Errorf("default format: exit %d: %q %q", res.code, res.stdout, res.stderr)
	}

	out := filepath.Join(dir, "stolen.csv")
	for _, c := range []struct{ name, q string }{
		{"read_csv", "select * from read_csv('/etc/passwd')"},
		{"copy to", "copy (select 1 as x) to " + sqlString(out)},
		{"attach", "attach " + sqlString(filepath.Join(dir, "other.db"))},
		{"syntax", "selec 1"},
	} {
		res := runCLI(t, nil, "sql", "--data", data, c.q)
		if res.code == 0 || !strings.HasPrefix(res.stderr, "ducktail sql: ") || len(res.stderr) < len("ducktail sql: ")+10 {
			t.Errorf("%s: exit %d, stderr %q: want a refusal with a message", c.name, res.code, res.stderr)
		}
		if strings.Contains(res.stdout, "root:") {
			t.Errorf("%s: stdout shows /etc/passwd: %q", c.name, res.stdout)
		}
	}
	for _, name := range []string{"stolen.csv", "other.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("SQL created %s", name)
		}
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"sql", "--data", data, "--format", "xml", "select 1"}, 2},
		{[]string{"sql", "--data", data}, 2},
		{[]string{"sql", "--data", filepath.Join(dir, "missing"), "select 1"}, 1},
	} {
		if res := runCLI(t, nil, c.args...); res.code != c.code || res.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with a message", c.args, res.code, res.stderr, c.code)
		}
	}
}
