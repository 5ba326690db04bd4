//go:build !duckdb_arrow

package sqlengine

import (
	"strings"
	"testing"
)

func TestNeedsArrowTag(t *testing.T) {
	if _, err := Open(Options{DataDir: "/d", TempDir: "/t"}); err == nil || !strings.Contains(err.Error(), "duckdb_arrow") {
		t.Fatalf("Open without the duckdb_arrow tag: %v", err)
	}
	t.Skip("sqlengine's DuckDB tests need -tags duckdb_arrow (duckdb-go's Arrow interface)")
}
