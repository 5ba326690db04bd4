package sqlengine

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

func TestQuoting(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	f(quoteIdent(`events`), `"events"`)
	f(quoteIdent(`a"b`), `"a""b"`)
	f(quoteIdent(`"; drop view x; --`), `"""; drop view x; --"`)
	f(quoteString(`/data/a.parquet`), `'/data/a.parquet'`)
	f(quoteString(`/data/it's.parquet`), `'/data/it''s.parquet'`)
	f(tailTable(base.StreamName{Account: "demo", Name: "ev\"ents"}), `"_tail"."demo.ev""ents"`)
}

func TestViewSQL(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "val\"ue", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	n := base.StreamName{Account: "demo", Name: "events"}
	f := func(files []string, want string) {
		t.Helper()
		if got := viewSQL(n, s, files); got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	}
	f(nil, `CREATE OR REPLACE VIEW "demo"."events" AS SELECT "_id", "val""ue" FROM "_tail"."demo.events"`)
	f([]string{"/d/a.parquet", "/d/b'.parquet"}, `CREATE OR REPLACE VIEW "demo"."events" AS SELECT "_id", "val""ue" FROM `+
		`(SELECT * FROM read_parquet(['/d/a.parquet', '/d/b''.parquet'], union_by_name = true) `+
		`UNION ALL BY NAME SELECT * FROM "_tail"."demo.events")`)
}

func TestOptionsValidate(t *testing.T) {
	f := func(o Options, wantErr string) {
		t.Helper()
		o.EnsureDefaults()
		err := o.Validate()
		switch {
		case wantErr == "" && err != nil:
			t.Fatalf("%+v: %v", o, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Fatalf("%+v: error %v, want %q", o, err, wantErr)
		}
		if o.Threads != 2 {
			t.Fatalf("threads default not applied: %d", o.Threads)
		}
	}
	f(Options{DataDir: "/d", TempDir: "/t"}, "")
	f(Options{TempDir: "/t"}, "DataDir is required")
	f(Options{DataDir: "/d"}, "TempDir is required")
	f(Options{DataDir: "/d'x", TempDir: "/t"}, "DataDir")
	f(Options{DataDir: "/d", TempDir: "/t", MemoryLimit: "1GB&threads=64"}, "MemoryLimit")
	f(Options{DataDir: "/", TempDir: "/t"}, "root")
}
