//go:build duckdb_arrow

package sqlengine

import (
	"errors"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

var (
	errNotOneStatement = errors.New("exactly one SQL statement is allowed")
	errNotRead         = errors.New("only read statements are allowed (SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)")
)

// checkStatement prepares q on the driver connection dc and accepts it only
// if it is one statement of a read type. duckdb-go's Conn.Prepare refuses a
// multi-statement text without running any of it (PrepareContext would run
// all but the last). DESCRIBE, SHOW, SUMMARIZE and show-style PRAGMAs are
// SELECT statements to DuckDB; PRAGMAs that change state are not. EXPLAIN
// ANALYZE runs its statement, which the READ ONLY transaction confines.
func checkStatement(dc any, q string) error {
	c, ok := dc.(*duckdb.Conn)
	if !ok {
		return fmt.Errorf("sqlengine: driver connection is a %T, not a DuckDB connection", dc)
	}
	st, err := c.Prepare(q)
	if err != nil {
		var de *duckdb.Error
		if errors.As(err, &de) {
			return err
		}
		return errNotOneStatement
	}
	defer st.Close()
	ds, ok := st.(*duckdb.Stmt)
	if !ok {
		return fmt.Errorf("sqlengine: prepared statement is a %T", st)
	}
	typ, err := ds.StatementType()
	if err != nil {
		return err
	}
	switch typ {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN:
		return nil
	}
	return fmt.Errorf("%w; this is %s", errNotRead, stmtTypeName(typ))
}

// stmtTypeName names a statement type for an error message.
func stmtTypeName(t duckdb.StmtType) string {
	switch t {
	case duckdb.STATEMENT_TYPE_INSERT:
		return "an INSERT"
	case duckdb.STATEMENT_TYPE_UPDATE:
		return "an UPDATE"
	case duckdb.STATEMENT_TYPE_DELETE:
		return "a DELETE"
	case duckdb.STATEMENT_TYPE_CREATE, duckdb.STATEMENT_TYPE_CREATE_FUNC:
		return "a CREATE"
	case duckdb.STATEMENT_TYPE_DROP:
		return "a DROP"
	case duckdb.STATEMENT_TYPE_ALTER:
		return "an ALTER"
	case duckdb.STATEMENT_TYPE_COPY:
		return "a COPY"
	case duckdb.STATEMENT_TYPE_ATTACH:
		return "an ATTACH"
	case duckdb.STATEMENT_TYPE_DETACH:
		return "a DETACH"
	case duckdb.STATEMENT_TYPE_SET, duckdb.STATEMENT_TYPE_VARIABLE_SET:
		return "a SET"
	case duckdb.STATEMENT_TYPE_PRAGMA:
		return "a PRAGMA that is not a read"
	case duckdb.STATEMENT_TYPE_LOAD, duckdb.STATEMENT_TYPE_EXTENSION:
		return "an INSTALL or LOAD"
	case duckdb.STATEMENT_TYPE_TRANSACTION:
		return "a transaction statement"
	case duckdb.STATEMENT_TYPE_CALL:
		return "a CALL"
	case duckdb.STATEMENT_TYPE_EXPORT:
		return "an EXPORT"
	}
	return fmt.Sprintf("a statement of type %d", t)
}
