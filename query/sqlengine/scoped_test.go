//go:build duckdb_arrow

package sqlengine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// TestAllowedDirs: a database opened with AllowedDirs reads files below
// those directories only, whatever path spelling the query uses.
func TestAllowedDirs(t *testing.T) {
	env := newEnv(t)
	s := demoSchema()
	mine := env.writeSegment(s, "mine", 0, 10)
	// "mine2" shares mine's name as a prefix: the trailing separator of
	// the allowed directory must keep it out.
	theirs := env.writeSegment(s, "mine2", 0, 20)
	opts := env.e.Options()
	opts.AllowedDirs = []string{filepath.Dir(mine)}
	opts.TempDir = filepath.Join(opts.TempDir, "scoped")
	e, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	rows, err := queryRows(ctx, e, nil, `select count(*) from read_parquet('`+mine+`')`)
	if err != nil || !reflect.DeepEqual(rows, [][]any{{int64(10)}}) {
		t.Fatalf("own file: %v %v", rows, err)
	}
	for _, q := range []string{
		`select count(*) from read_parquet('` + theirs + `')`,
		`select count(*) from read_parquet('` + filepath.Dir(mine) + `/../mine2/` + filepath.Base(theirs) + `')`,
		`select count(*) from read_parquet('` + filepath.Dir(filepath.Dir(mine)) + `/*/*.parquet')`,
		`select * from glob('` + filepath.Dir(filepath.Dir(mine)) + `/*')`,
		`select * from read_parquet('` + filepath.Dir(mine) + `/../*/*.parquet')`,
	} {
		res, err := e.Query(ctx, nil, q)
		if err == nil {
			res.Release()
			t.Errorf("%s: accepted", q)
		} else if !errors.Is(err, base.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", q, err)
		}
	}
	// The base engine still reads both.
	if got := env.query(nil, `select count(*) from read_parquet('`+theirs+`')`); !reflect.DeepEqual(got, [][]any{{int64(20)}}) {
		t.Fatalf("base engine: %v", got)
	}
	// AllowedDirs outside DataDir are refused at Open.
	bad := env.e.Options()
	bad.AllowedDirs = []string{filepath.Dir(env.data)}
	if _, err := Open(bad); err == nil {
		t.Fatal("AllowedDirs above DataDir accepted")
	}
}

// BenchmarkOpenClose is the price of a fresh locked-down database (what a
// scoped SQL database costs when it is first needed), with one query.
func BenchmarkOpenClose(b *testing.B) {
	env := newEnv(b)
	opts := env.e.Options()
	ctx := context.Background()
	b.ReportAllocs()
	for i := range b.N {
		o := opts
		o.TempDir = filepath.Join(opts.TempDir, fmt.Sprint(i))
		e, err := Open(o)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := queryRows(ctx, e, nil, `select 1`); err != nil {
			b.Fatal(err)
		}
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
