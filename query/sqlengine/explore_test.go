//go:build duckdb_arrow

package sqlengine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

func TestExplore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	tmp := filepath.Join(dir, "tmp")
	os.MkdirAll(tmp, 0o755)
	c, err := duckdb.NewConnector("?threads=2&home_directory="+tmp+"&temp_directory="+tmp, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	ic, _ := db.Conn(ctx)
	uc, _ := db.Conn(ctx)
	exec := func(c *sql.Conn, q string) {
		_, err := c.ExecContext(ctx, q)
		fmt.Printf("EXEC %q -> %v\n", q, err)
	}
	sch := arrow.NewSchema([]arrow.Field{{Name: "_id", Type: arrow.PrimitiveTypes.Int64}, {Name: "_ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}}, {Name: "_tenant", Type: arrow.PrimitiveTypes.Uint32, Nullable: true}, {Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	for i := 0; i < 3; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(1700000000000 + i))
		b.Field(2).(*array.Uint32Builder).AppendNull()
		b.Field(3).(*array.Float64Builder).Append(float64(i) * 1.5)
	}
	rec := b.NewRecordBatch()
	f, _ := os.Create(filepath.Join(data, "a.parquet"))
	if err := pqarrow.WriteTable(array.NewTableFromRecords(sch, []arrow.RecordBatch{rec}), f, 1000, nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "x.csv"), []byte("a,b\n1,2\n"), 0o644)
	exec(ic, "SET allowed_directories=['"+data+"/']")
	exec(ic, "SET enable_external_access=false")
	exec(ic, "SET lock_configuration=true")
	exec(ic, "CREATE SCHEMA _tail")
	err = ic.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, _ := array.NewRecordReader(sch, nil)
		rel, err := a.RegisterView(rr, "v0")
		if err != nil {
			return err
		}
		defer rel()
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, `CREATE TABLE _tail."demo.events" AS SELECT * FROM v0`, nil)
		fmt.Println("create", err)
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, `DROP VIEW v0`, nil)
		return err
	})
	fmt.Println("register", err)
	err = ic.Raw(func(dc any) error {
		a, _ := duckdb.NewArrowFromConn(dc.(driver.Conn))
		rr, _ := array.NewRecordReader(sch, []arrow.RecordBatch{rec})
		rel, err := a.RegisterView(rr, "v1")
		if err != nil {
			return err
		}
		defer rel()
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, `INSERT INTO _tail."demo.events" SELECT * FROM v1`, nil)
		fmt.Println("ins", err)
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, `DROP VIEW v1`, nil)
		return err
	})
	fmt.Println("insert", err)
	exec(ic, `CREATE SCHEMA demo`)
	exec(ic, `CREATE VIEW demo.events AS SELECT * FROM read_parquet(['`+data+`/a.parquet'], union_by_name=true) UNION ALL BY NAME SELECT * FROM _tail."demo.events"`)
	q := func(c *sql.Conn, s string) {
		rows, err := c.QueryContext(ctx, s)
		if err != nil {
			fmt.Printf("Q %q -> ERR %v\n", s, err)
			return
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []any
		for rows.Next() {
			v := make([]any, len(cols))
			p := make([]any, len(cols))
			for i := range v {
				p[i] = &v[i]
			}
			rows.Scan(p...)
			out = append(out, v)
		}
		fmt.Printf("Q %q -> %v %v\n", s, out, rows.Err())
	}
	q(uc, `select typeof(_ts), typeof(_tenant), count(*), sum(value) from demo.events group by all`)
	q(uc, `select * from read_csv('`+filepath.Join(dir, "x.csv")+`')`)
	q(uc, `select * from read_parquet('`+data+`/a.parquet')`)
	q(uc, `select * from read_parquet('`+data+`/../data/a.parquet')`)
	q(uc, `select * from read_text('`+data+`/a.parquet')`)
	q(uc, `select * from glob('/*')`)
	q(uc, `select * from query('insert into _tail."demo.events" select * from _tail."demo.events"')`)
	q(uc, `select count(*) from query('select * from demo.events')`)
	exec(uc, `SET threads=1`)
	exec(uc, `BEGIN TRANSACTION READ ONLY`)
	exec(uc, `INSERT INTO _tail."demo.events" SELECT * FROM _tail."demo.events"`)
	exec(uc, `ROLLBACK`)
	for _, s := range []string{"select 1", "with x as (select 1) select * from x", "from demo.events", "describe demo.events", "show tables", "show all tables", "summarize demo.events", "explain select 1", "explain analyze select 1", "explain analyze insert into _tail.\"demo.events\" select * from _tail.\"demo.events\"", "pragma show_tables", "pragma table_info('demo.events')", "pragma version", "values (1)", "table demo.events", "pragma enable_profiling", "call pragma_version()", "select 1; select 2", "set threads=1", "copy (select 1) to '/tmp/x.csv'", "attach ':memory:' as x", "install httpfs", "load httpfs", "checkpoint", "pragma database_size", "use demo", "reset threads", "export database '/tmp/y'", "describe select 1", "show select 1", "explain (format json) select 1"} {
		err := uc.Raw(func(dc any) error {
			st, err := dc.(*duckdb.Conn).Prepare(s)
			if err != nil {
				return err
			}
			defer st.Close()
			ty, err := st.(*duckdb.Stmt).StatementType()
			fmt.Printf("TYPE %q -> %v %v\n", s, ty, err)
			return nil
		})
		if err != nil {
			fmt.Printf("TYPE %q -> ERR %T %v\n", s, err, err)
		}
	}
}
