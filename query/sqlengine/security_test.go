//go:build duckdb_arrow

package sqlengine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
)

func TestSecurity(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	views := []View{{Account: "demo", Name: "events", Schema: s,
		Files: []string{env.writeSegment(s, "events", 0, 10)}, Tail: tail(t, s, 10, 5)}}
	seg := views[0].Files[0]

	// A readable Parquet file and a CSV outside the data directory, so a
	// refusal is a refusal and not "file not found".
	outside := filepath.Dir(env.data)
	outCSV := filepath.Join(outside, "x.csv")
	if err := os.WriteFile(outCSV, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outParquet := filepath.Join(outside, "x.parquet")
	if err := os.Link(seg, outParquet); err != nil {
		t.Fatal(err)
	}

	refused := func(q string) {
		t.Helper()
		res, err := env.e.Query(context.Background(), views, q)
		if err == nil {
			res.Release()
			t.Errorf("%s: accepted", q)
			return
		}
		if !errors.Is(err, base.ErrInvalid) || err.Error() == "" {
			t.Errorf("%s: error %v is not ErrInvalid with a message", q, err)
		}
	}
	refused(`select * from read_csv('/etc/passwd')`)
	refused(`select * from read_csv('` + outCSV + `')`)
	refused(`select * from read_csv('` + env.data + `/../x.csv')`)
	refused(`select * from read_parquet('` + outParquet + `')`)
	refused(`select * from read_text('/etc/passwd')`)
	refused(`select * from read_blob('/etc/hostname')`)
	refused(`select * from glob('/*')`)
	refused(`select * from read_parquet('https://example.com/x.parquet')`)
	refused(`copy (select 1) to '` + filepath.Join(env.data, "out.csv") + `'`)
	refused(`copy (select 1) to '/tmp/ducktail-sqlengine-test.csv'`)
	refused(`export database '` + filepath.Join(env.data, "exp") + `'`)
	refused(`attach ':memory:' as x`)
	refused(`attach '` + filepath.Join(env.data, "x.db") + `' as x`)
	refused(`install httpfs`)
	refused(`load httpfs`)
	refused(`set threads = 1`)
	refused(`set enable_external_access = true`)
	refused(`set lock_configuration = false`)
	refused(`reset allowed_directories`)
	refused(`use demo`)
	refused(`create table t (a int)`)
	refused(`create view demo.v as select 1`)
	refused(`create macro m(a) as a`)
	refused(`insert into _tail."demo.events" select * from _tail."demo.events"`)
	refused(`update _tail."demo.events" set value = 0`)
	refused(`delete from _tail."demo.events"`)
	refused(`drop view demo.events`)
	refused(`alter view demo.events rename to x`)
	refused(`pragma enable_profiling`)
	refused(`pragma threads = 1`)
	refused(`checkpoint`)
	refused(`begin transaction`)
	refused(`explain analyze insert into _tail."demo.events" select * from _tail."demo.events"`)
	refused(`select * from query('drop view demo.events')`)
	refused(`select 1; drop view demo.events`)
	refused(`select 1; select 2`)
	refused(``)
	refused(`selec 1`)
	refused(`select * from nope.nope`)
	refused(`select nope from demo.events`)

	// Reads that must work, segments under the data directory included.
	f := func(q string, check func([][]any) bool) {
		t.Helper()
		rows, err := queryRows(context.Background(), env.e, views, q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			return
		}
		if !check(rows) {
			t.Errorf("%s: unexpected %v", q, rows)
		}
	}
	nonEmpty := func(rows [][]any) bool { return len(rows) > 0 }
	f(`select count(*) from read_parquet('`+seg+`')`, func(r [][]any) bool { return reflect.DeepEqual(r, [][]any{{int64(10)}}) })
	f(`select count(*) from demo.events`, func(r [][]any) bool { return reflect.DeepEqual(r, [][]any{{int64(15)}}) })
	f(`with x as (select value from demo.events) select count(*) from x`, nonEmpty)
	f(`from demo.events limit 1`, nonEmpty)
	f(`table demo.events`, nonEmpty)
	f(`values (1), (2)`, nonEmpty)
	f(`describe demo.events`, nonEmpty)
	f(`show all tables`, nonEmpty)
	f(`summarize demo.events`, nonEmpty)
	f(`pragma table_info('demo.events')`, nonEmpty)
	f(`explain select * from demo.events where value > 3`, nonEmpty)
	f(`explain analyze select count(*) from demo.events`, nonEmpty)
	f(`select current_setting('enable_external_access'), current_setting('lock_configuration')`,
		func(r [][]any) bool { return reflect.DeepEqual(r, [][]any{{false, true}}) })
	f(`select value from demo.events where _id = 12`, func(r [][]any) bool { return reflect.DeepEqual(r, [][]any{{rowValue(12)}}) })

	// Nothing the refused statements tried has happened.
	if _, err := os.Stat(filepath.Join(env.data, "out.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("COPY wrote a file: %v", err)
	}
	if got := env.query(views, `select count(*) from demo.events`); !reflect.DeepEqual(got, [][]any{{int64(15)}}) {
		t.Errorf("after the refused statements: %v", got)
	}
}

func TestErrorMessages(t *testing.T) {
	env := newEnv(t)
	f := func(q, want string) {
		t.Helper()
		_, err := env.e.Query(context.Background(), nil, q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", q, err, want)
		}
	}
	f(`select 1; select 2`, "exactly one SQL statement")
	f(`create table t (a int)`, "a CREATE")
	f(`select * from nope`, "nope")
	f(`select * from read_csv('/etc/passwd')`, "/etc/passwd")
}
