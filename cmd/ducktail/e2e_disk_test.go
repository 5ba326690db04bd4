package main

import (
	"database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// openDuckDB opens a stock in-memory DuckDB through database/sql.
func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("SET home_directory = " + sqlString(t.TempDir())); err != nil {
		t.Fatal(err)
	}
	return db
}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// diskManifest is the part of a manifest version file the tests check,
// decoded independently of storage/manifest.
type diskManifest struct {
	Version  uint64 `json:"version"`
	Stream   string `json:"stream"`
	Segments []struct {
		Key     string `json:"key"`
		FirstID int64  `json:"first_id"`
		LastID  int64  `json:"last_id"`
		Rows    int64  `json:"rows"`
		Bytes   int64  `json:"bytes"`
	} `json:"segments"`
}

var manifestName = regexp.MustCompile(`^[0-9]{20}\.json$`)

const demoPrefix = "streams/demo/events"

// newestManifest reads the newest manifest version of demo/events; ok is
// false when there is none yet.
func newestManifest(t *testing.T, data string) (m diskManifest, ok bool) {
	t.Helper()
	dir := filepath.Join(data, demoPrefix, "_manifest")
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return m, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if manifestName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return m, false
	}
	sort.Strings(names)
	b, err := os.ReadFile(filepath.Join(dir, names[len(names)-1]))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest %s: %v", names[len(names)-1], err)
	}
	return m, true
}

// checkStreamFiles checks the files of demo/events on disk when no flush is
// running: every file under streams/ is a manifest version or a segment the
// newest manifest lists (no orphan segment, no temporary file); the segments
// are contiguous from id 0 and hold wantRows rows in all; and a stock DuckDB
// reads each one whole, with the ids and row count the manifest says and
// _ts as TIMESTAMP WITH TIME ZONE. It returns the number of segments.
func checkStreamFiles(t *testing.T, db *sql.DB, data string, wantRows int64) int {
	t.Helper()
	m, ok := newestManifest(t, data)
	if !ok {
		if wantRows != 0 {
			t.Errorf("no manifest, want %d rows in segments", wantRows)
		}
		return 0
	}
	listed := map[string]bool{}
	var next int64
	for i, s := range m.Segments {
		listed[s.Key] = true
		if s.FirstID != next || s.LastID < s.FirstID || s.Rows != s.LastID-s.FirstID+1 {
			t.Errorf("manifest v%d segment %d %s: ids [%d, %d] rows %d, want first id %d", m.Version, i, s.Key, s.FirstID, s.LastID, s.Rows, next)
		}
		next = s.LastID + 1
	}
	if next != wantRows {
		t.Errorf("manifest v%d covers %d rows, want %d", m.Version, next, wantRows)
	}
	root := filepath.Join(data, "streams")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(data, path)
		key := filepath.ToSlash(rel)
		switch {
		case strings.HasPrefix(key, demoPrefix+"/_manifest/") && manifestName.MatchString(d.Name()):
		case strings.HasSuffix(key, ".parquet") && listed[key]:
		case strings.HasSuffix(key, ".parquet"):
			t.Errorf("orphan segment %s: not in manifest v%d", key, m.Version)
		default:
			t.Errorf("leftover file %s under streams/ (a partial write not cleaned up)", key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Segments {
		path := filepath.Join(data, filepath.FromSlash(s.Key))
		st, err := os.Stat(path)
		if err != nil {
			t.Errorf("segment %s: %v", s.Key, err)
			continue
		}
		if st.Size() != s.Bytes {
			t.Errorf("segment %s is %d bytes, the manifest says %d", s.Key, st.Size(), s.Bytes)
		}
		var n, lo, hi int64
		var typ string
		q := "select count(*), min(_id), max(_id), typeof(min(_ts)) from read_parquet(" + sqlString(path) + ")"
		if err := db.QueryRow(q).Scan(&n, &lo, &hi, &typ); err != nil {
			t.Errorf("DuckDB cannot read segment %s: %v", s.Key, err)
			continue
		}
		if n != s.Rows || lo != s.FirstID || hi != s.LastID || typ != "TIMESTAMP WITH TIME ZONE" {
			t.Errorf("segment %s read by DuckDB: %d rows, ids [%d, %d], _ts %s; the manifest says %d rows, ids [%d, %d]",
				s.Key, n, lo, hi, typ, s.Rows, s.FirstID, s.LastID)
		}
	}
	return len(m.Segments)
}
