package server

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLWithAPIKeys: /sql with an API key sees only its account's (or its
// stream's) views, flushed and unflushed rows alike, and no statement gets
// around that; the admin key sees everything.
func TestSQLWithAPIKeys(t *testing.T) {
	ts := startServer(t)
	post := func(path string, n int) {
		t.Helper()
		for i := range n {
			if r := ts.admin("POST", path, []byte("event "+string(rune('a'+i))), "Content-Type", "text/plain"); r.code != 200 {
				t.Fatalf("POST %s: %d %s", path, r.code, r.body)
			}
		}
	}
	// Segments and a tail for each stream.
	post("/acme/a", 3)
	post("/acme/b", 2)
	post("/rival/secret", 4)
	if r := ts.admin("POST", "/_/flush", nil); r.code != 200 {
		t.Fatalf("flush: %d %s", r.code, r.body)
	}
	post("/acme/a", 1)
	post("/rival/secret", 1)
	segs := func(account, stream string) string {
		t.Helper()
		m, err := filepath.Glob(filepath.Join(ts.dir, "streams", account, stream, "*.parquet"))
		if err != nil || len(m) == 0 {
			t.Fatalf("no segment of %s/%s: %v", account, stream, err)
		}
		return m[0]
	}
	rivalSeg, acmeBSeg, acmeASeg := segs("rival", "secret"), segs("acme", "b"), segs("acme", "a")
	root := filepath.Join(ts.dir, "streams")

	apiKey := func(account, stream, rights string) string {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"account": account, "stream": stream, "rights": rights})
		r := ts.admin("POST", "/_/keys", body)
		var out struct{ Key string }
		r.json(t, &out)
		if r.code != 201 || out.Key == "" {
			t.Fatalf("create key: %d %s", r.code, r.body)
		}
		return out.Key
	}
	acme, acmeA, acmeW := apiKey("acme", "", "r"), apiKey("acme", "a", "rw"), apiKey("acme", "", "wx")
	sql := func(key, q string) response {
		t.Helper()
		return ts.do("POST", "/sql", []byte(q), "Authorization", "Bearer "+key)
	}
	rows := func(key, q string) string {
		t.Helper()
		r := sql(key, q)
		if r.code != 200 {
			t.Fatalf("%s: %d %s", q, r.code, r.body)
		}
		return strings.TrimSpace(string(r.body))
	}
	refused := func(key string, code int, q, msg string) {
		t.Helper()
		r := sql(key, q)
		if r.code != code || !strings.Contains(r.errorText(t), msg) {
			t.Errorf("%s: %d %s, want %d mentioning %q", q, r.code, r.body, code, msg)
		}
	}

	// Who may query at all.
	if r := ts.do("POST", "/sql", []byte("select 1")); r.code != 401 {
		t.Errorf("no key: %d %s", r.code, r.body)
	}
	refused("dtk_not_a_key", 401, "select 1", "not valid")
	refused(acmeW, 403, "select 1", "no read right")

	// The admin sees every account.
	if got := rows(testAdminKey, `select (select count(*) from acme.a) a, (select count(*) from rival.secret) s`); got != `[{"a":4,"s":5}]` {
		t.Fatalf("admin: %s", got)
	}
	// An account key: its streams, segments and tail.
	if got := rows(acme, `select (select count(*) from acme.a) a, (select count(*) from acme.b) b`); got != `[{"a":4,"b":2}]` {
		t.Fatalf("acme key: %s", got)
	}
	if got := rows(acme, `select decode(_data) d from acme.a where _id = 3`); got != `[{"d":"event a"}]` {
		t.Fatalf("acme tail row: %s", got)
	}
	if got := rows(acme, `select count(*) n from read_parquet('`+acmeBSeg+`')`); got != `[{"n":2}]` {
		t.Fatalf("own segment: %s", got)
	}
	if got := rows(acme, `select string_agg(table_schema || '.' || table_name, ',' order by table_name) t from information_schema.tables where table_schema not in ('_tail')`); got != `[{"t":"acme.a,acme.b"}]` {
		t.Fatalf("information_schema: %s", got)
	}
	if got := rows(acme, `select count(*) n from duckdb_tables() where schema_name = 'rival' or table_name like '%rival%'`); got != `[{"n":0}]` {
		t.Fatalf("duckdb_tables: %s", got)
	}
	// Other accounts do not exist for it, whatever the statement.
	for _, c := range []struct{ q, msg string }{
		{`select * from rival.secret`, "secret"},
		{`select * from "rival"."secret"`, "secret"},
		{`select * from _tail."rival.secret"`, "rival.secret"},
		{`select * from read_parquet('` + rivalSeg + `')`, "rival"},
		{`select * from read_parquet('` + root + `/acme/../rival/secret/` + filepath.Base(rivalSeg) + `')`, "rival"},
		{`select * from read_parquet('` + root + `/*/*/*.parquet')`, "Permission"},
		{`select * from glob('` + root + `/*')`, "Permission"},
		{`select * from read_blob('` + rivalSeg + `')`, "rival"},
		{`attach '` + filepath.Join(ts.dir, "x.db") + `' as x`, "ATTACH"},
		{`attach ':memory:' as x`, "ATTACH"},
		{`set allowed_directories = ['/']`, "SET"},
		{`set enable_external_access = true`, "SET"},
		{`pragma threads = 1`, "SET"},
		{`pragma enable_profiling`, "PRAGMA"},
		{`copy (select 1) to '` + filepath.Join(root, "acme", "out.csv") + `'`, "COPY"},
		{`install httpfs`, "INSTALL"},
		{`load httpfs`, "INSTALL"},
		{`select * from query('select * from rival.secret')`, "secret"},
		{`select 1; select * from rival.secret`, "one SQL statement"},
	} {
		refused(acme, 400, c.q, c.msg)
	}
	// A stream key sees that stream only, not its account's others.
	if got := rows(acmeA, `select count(*) n from acme.a`); got != `[{"n":4}]` {
		t.Fatalf("stream key: %s", got)
	}
	if got := rows(acmeA, `select count(*) n from read_parquet('`+acmeASeg+`')`); got != `[{"n":3}]` {
		t.Fatalf("stream key, own segment: %s", got)
	}
	refused(acmeA, 400, `select * from acme.b`, "b")
	refused(acmeA, 400, `select * from read_parquet('`+acmeBSeg+`')`, "acme")
	// The admin's database is unchanged by the keys' queries.
	if got := rows(testAdminKey, `select count(*) n from rival.secret`); got != `[{"n":5}]` {
		t.Fatalf("admin after: %s", got)
	}

	// Scoped databases are kept up to date and evicted past the limit;
	// an evicted scope opens again on its next query.
	sq := ts.srv.opts.SQL
	if n := sq.OpenScoped(); n != 2 {
		t.Fatalf("%d scoped databases open, want 2", n)
	}
	sq.SetMaxScoped(1)
	if n := sq.OpenScoped(); n != 1 {
		t.Fatalf("%d scoped databases open after SetMaxScoped(1)", n)
	}
	post("/acme/a", 2)
	for range 2 {
		if got := rows(acme, `select count(*) n from acme.a`); got != `[{"n":6}]` {
			t.Fatalf("acme key after more events: %s", got)
		}
		if got := rows(acmeA, `select max(_id) m from acme.a`); got != `[{"m":5}]` {
			t.Fatalf("stream key after more events: %s", got)
		}
	}
	if n := sq.OpenScoped(); n != 1 {
		t.Fatalf("%d scoped databases open, want 1", n)
	}
}
