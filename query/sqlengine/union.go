//go:build duckdb_arrow

package sqlengine

import (
	"slices"
	"strings"
)

// syncUnion (re)creates a union view when its schema or parts changed. The
// parts are views synced earlier in the same transaction, each with its own
// files and tail table, so each keeps its dense ids. REQUIRES: as
// syncStream.
func (m *maint) syncUnion(v *View, st streamState) (streamState, int, error) {
	if st.schema != nil && st.schema.Equal(v.Schema) && slices.Equal(st.parts, v.Parts) {
		return st, 0, nil
	}
	n := v.key()
	if err := m.exec("CREATE SCHEMA IF NOT EXISTS " + quoteIdent(n.Account)); err != nil {
		return st, 0, err
	}
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE VIEW ")
	b.WriteString(viewName(n))
	b.WriteString(" AS SELECT ")
	for i, f := range v.Schema.Fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(f.Name))
	}
	b.WriteString(" FROM (")
	for i, p := range v.Parts {
		if i > 0 {
			b.WriteString(" UNION ALL BY NAME ")
		}
		b.WriteString("SELECT * FROM ")
		b.WriteString(quoteIdent(n.Account) + "." + quoteIdent(p))
	}
	b.WriteString(")")
	if err := m.exec(b.String()); err != nil {
		return st, 0, err
	}
	st.schema, st.parts, st.viewed = v.Schema, slices.Clone(v.Parts), true
	return st, 0, nil
}
