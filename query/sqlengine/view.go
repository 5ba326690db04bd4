package sqlengine

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

// View is one stream as SQL sees it, as of one moment.
type View struct {
	// Account and Name name the view "Account"."Name". The schema "Account"
	// is created when missing.
	Account, Name string
	// Schema is the stored schema: _id int64, _ts timestamp[ms, tz=UTC],
	// _event utf8, _sub utf8, _tenant uint32, then the payload fields.
	Schema *arrow.Schema
	// Files are the absolute paths of the Parquet segments, in id order.
	Files []string
	// Tail holds the unflushed rows in id order; every id in Tail is greater
	// than every id in Files.
	Tail []TailBatch
	// Parts, when not empty, make the view the union (columns matched by
	// name) of these views of the same account, listed before it in the
	// same call: a stream factory over its substreams. Files and Tail are
	// then empty.
	Parts []string
}

// TailBatch is a run of unflushed rows with dense ids starting at FirstID.
// Rec has exactly the view's Schema; the caller owns it and must keep it
// alive until Query returns.
type TailBatch struct {
	FirstID int64
	Rec     arrow.RecordBatch
}

// key identifies a stream's state in the engine.
func (v *View) key() base.StreamName { return base.StreamName{Account: v.Account, Name: v.Name} }

// check verifies what the engine relies on: a valid account (its alphabet
// has no '.', which keeps tail table names unique), a name, a schema with
// an int64 _id, and a dense tail whose batches have the view's schema.
func (v *View) check() error {
	if err := base.ValidateAccount(v.Account); err != nil {
		return fmt.Errorf("sqlengine: view %s: %w", v.key(), err)
	}
	if v.Name == "" {
		return fmt.Errorf("sqlengine: view %s: empty name", v.key())
	}
	if v.Schema == nil {
		return fmt.Errorf("sqlengine: view %s: no schema", v.key())
	}
	idx := v.Schema.FieldIndices(base.ColID)
	if len(idx) != 1 || v.Schema.Field(idx[0]).Type.ID() != arrow.INT64 {
		return fmt.Errorf("sqlengine: view %s: schema needs exactly one int64 %s column", v.key(), base.ColID)
	}
	if len(v.Parts) > 0 && (len(v.Files) > 0 || len(v.Tail) > 0) {
		return fmt.Errorf("sqlengine: view %s: a union of parts has no files nor tail of its own", v.key())
	}
	for i, tb := range v.Tail {
		if tb.Rec == nil {
			return fmt.Errorf("sqlengine: view %s: tail batch %d has no record", v.key(), i)
		}
		if !tb.Rec.Schema().Equal(v.Schema) {
			return fmt.Errorf("sqlengine: view %s: tail batch %d: schema differs from the view's", v.key(), i)
		}
		if i > 0 {
			prev := v.Tail[i-1]
			if want := prev.FirstID + prev.Rec.NumRows(); tb.FirstID != want {
				return fmt.Errorf("sqlengine: view %s: tail batch %d starts at id %d, want %d", v.key(), i, tb.FirstID, want)
			}
		}
	}
	return nil
}

// quoteIdent quotes s as a DuckDB identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteString quotes s as a DuckDB string literal.
func quoteString(s string) string {
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}

// tailSchema is the internal schema holding the tail tables. Accounts start
// with [a-z0-9], so no account can be named like it.
const tailSchema = "_tail"

// tailTable returns the quoted name of a stream's tail table.
func tailTable(n base.StreamName) string {
	return quoteIdent(tailSchema) + "." + quoteIdent(n.Account+"."+n.Name)
}

// viewName returns the quoted name of a stream's view.
func viewName(n base.StreamName) string {
	return quoteIdent(n.Account) + "." + quoteIdent(n.Name)
}

// viewSQL returns the statement that (re)creates a stream's view: the
// Parquet segments and the tail table, matched by name, projected to the
// stored schema's columns in order.
func viewSQL(n base.StreamName, schema *arrow.Schema, files []string) string {
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE VIEW ")
	b.WriteString(viewName(n))
	b.WriteString(" AS SELECT ")
	for i, f := range schema.Fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(f.Name))
	}
	b.WriteString(" FROM ")
	if len(files) == 0 {
		b.WriteString(tailTable(n))
		return b.String()
	}
	b.WriteString("(SELECT * FROM ")
	b.WriteString(readParquet(files))
	b.WriteString(" UNION ALL BY NAME SELECT * FROM ")
	b.WriteString(tailTable(n))
	b.WriteString(")")
	return b.String()
}

// readParquet returns a read_parquet call over files, matching columns by
// name so that segments written before a column existed still read.
func readParquet(files []string) string {
	lits := make([]string, len(files))
	for i, f := range files {
		lits[i] = quoteString(f)
	}
	return "read_parquet([" + strings.Join(lits, ", ") + "], union_by_name = true)"
}
