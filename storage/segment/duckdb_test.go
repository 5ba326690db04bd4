package segment_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// TestDuckDBReadsSegment checks that stock DuckDB reads a segment with
// read_parquet and sees _ts as TIMESTAMP WITH TIME ZONE.
func TestDuckDBReadsSegment(t *testing.T) {
	const rows = 20_000
	dir := t.TempDir()
	data, _ := writeDemo(t, memory.DefaultAllocator, rows, 7000, segment.WriterOptions{RowGroupRows: 8192})
	path := filepath.Join(dir, "00000000000000000000-00000000000000019999.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDuckDB(t, dir)
	var (
		count, sumID int64
		minTS        time.Time
		typ          string
		sumValue     float64
		tenants      int64
		event        string
	)
	q := `select count(*), sum(_id), min(_ts), typeof(min(_ts)), sum(value), count(_tenant), min(event)
	      from read_parquet('` + strings.ReplaceAll(path, "'", "''") + `') where _id >= 0`
	if err := db.QueryRow(q).Scan(&count, &sumID, &minTS, &typ, &sumValue, &tenants, &event); err != nil {
		t.Fatal(err)
	}
	var wantValue float64
	for id := int64(0); id < rows; id++ {
		wantValue += segmenttest.Value(id)
	}
	if count != rows || sumID != rows*(rows-1)/2 || typ != "TIMESTAMP WITH TIME ZONE" ||
		minTS.UnixMilli() != segmenttest.TS(0) || sumValue != wantValue || tenants != rows/2 || event == "" {
		t.Fatalf("got count %d sum %d min(_ts) %v (%s) sum(value) %v tenants %d event %q", count, sumID, minTS, typ, sumValue, tenants, event)
	}
}

// TestDuckDBTextStatistics: DuckDB sees the text columns' statistics of a
// segment written from ingest-shaped records (_event a dictionary) equal to
// the values' min and max, and a filter that prunes row groups by them
// finds every matching row.
func TestDuckDBTextStatistics(t *testing.T) {
	const rows = 50_000
	recs := segmenttest.IngestBatches(memory.DefaultAllocator, 0, rows, 3_800)
	defer segmenttest.Release(recs)
	dir := t.TempDir()
	path := filepath.Join(dir, "seg.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := segment.Write(f, segmenttest.DemoSchema(), recs, segment.WriterOptions{RowGroupRows: 8192}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	clicks := 0
	for _, r := range recs {
		ev := r.Column(6).(interface{ Value(int) string })
		for i := range int(r.NumRows()) {
			if ev.Value(i) == "click" {
				clicks++
			}
		}
	}
	db := openDuckDB(t, dir)
	p := "'" + strings.ReplaceAll(path, "'", "''") + "'"
	for _, col := range []string{"_event", "event"} {
		var statMin, statMax, valMin, valMax string
		q := `select (select min(stats_min_value) from parquet_metadata(` + p + `) where path_in_schema = '` + col + `'),
		             (select max(stats_max_value) from parquet_metadata(` + p + `) where path_in_schema = '` + col + `'),
		             min(` + col + `), max(` + col + `) from read_parquet(` + p + `)`
		if err := db.QueryRow(q).Scan(&statMin, &statMax, &valMin, &valMax); err != nil {
			t.Fatal(err)
		}
		if statMin != valMin || statMax != valMax {
			t.Errorf("%s: statistics [%q, %q], values [%q, %q]", col, statMin, statMax, valMin, valMax)
		}
	}
	var got int
	if err := db.QueryRow(`select count(*) from read_parquet(` + p + `) where event = 'click'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != clicks || clicks == 0 {
		t.Errorf("DuckDB counts %d clicks, want %d", got, clicks)
	}
}

// TestDefaultLayout: with the default options a segment has the layout of
// SPEC 3 as a stock DuckDB reports it: row groups of about 128k rows, zstd,
// and statistics on _id and _ts.
func TestDefaultLayout(t *testing.T) {
	const rows = 300_000
	dir := t.TempDir()
	data, _ := writeDemo(t, memory.DefaultAllocator, rows, 7000, segment.WriterOptions{})
	path := filepath.Join(dir, "seg.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDuckDB(t, dir)
	rs, err := db.Query(`select row_group_id, any_value(row_group_num_rows), string_agg(distinct compression, ','),
	       bool_and(stats_min is not null and stats_max is not null) filter (where path_in_schema in ('_id', '_ts'))
	  from parquet_metadata('` + path + `') group by 1 order by 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var sizes []int64
	for rs.Next() {
		var (
			group, n int64
			codecs   string
			stats    bool
		)
		if err := rs.Scan(&group, &n, &codecs, &stats); err != nil {
			t.Fatal(err)
		}
		if codecs != "ZSTD" || !stats {
			t.Errorf("row group %d: compression %s, _id/_ts statistics %v; want ZSTD and statistics", group, codecs, stats)
		}
		sizes = append(sizes, n)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	want := []int64{131072, 131072, rows - 2*131072}
	if !slices.Equal(sizes, want) {
		t.Fatalf("row groups of %v rows, want %v", sizes, want)
	}
}

// openDuckDB opens a stock in-memory DuckDB with dir as its home, closed
// with the test.
func openDuckDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("SET home_directory = '" + dir + "'"); err != nil {
		t.Fatal(err)
	}
	return db
}
