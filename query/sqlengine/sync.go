//go:build duckdb_arrow

package sqlengine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/ducktail/ducktail/base"
)

// streamKey identifies a stream in Engine.streams.
type streamKey = base.StreamName

// streamState is what the database holds for one stream.
type streamState struct {
	schema   *arrow.Schema // the tail table's schema; nil before it exists
	files    []string      // the files the view reads
	viewed   bool          // the view matches schema and files
	filesEnd int64         // ids below it are in files (and gone from the tail table)
	next     int64         // ids below it are in files or in the tail table
	parts    []string      // the parts of a union view (union.go)
}

// arrowInput is the name of the temporary view that RegisterView creates on
// the internal connection. It lives only for one statement.
const arrowInput = "_ducktail_arrow_in"

// sync brings the views up to date in one transaction on the internal
// connection, so a concurrent query sees either all of it or none of it.
func (e *Engine) sync(ctx context.Context, views []View) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return base.Errorf(base.ErrClosed, "sql engine is closed")
	}
	if len(views) == 0 {
		return nil
	}
	seen := make(map[streamKey]bool, len(views))
	for i := range views {
		if err := views[i].check(); err != nil {
			return err
		}
		k := views[i].key()
		if seen[k] {
			return fmt.Errorf("sqlengine: view %s listed twice", k)
		}
		seen[k] = true
	}
	if e.internal == nil {
		// The settings are global: a new connection needs no set-up.
		c, err := e.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("sqlengine: cannot connect to DuckDB: %w", err)
		}
		e.internal = c
	}
	next := make([]streamState, len(views))
	inserted := 0
	// A stream that cannot be brought up to date must not stop the others:
	// its view is made to fail with the reason, and the update runs again
	// without it (each failure takes one stream out, so this ends).
	broken := make(map[streamKey]error)
	update := func(dc any) error {
		inserted = 0
		m, err := newMaint(ctx, dc, e.log)
		if err != nil {
			return err
		}
		if err := m.exec("BEGIN TRANSACTION"); err != nil {
			return err
		}
		for i := range views {
			k := views[i].key()
			if cause, ok := broken[k]; ok {
				if err := m.failView(k, cause); err != nil {
					return m.rollback(err)
				}
				next[i] = streamState{} // the next update starts it over
				continue
			}
			st, n, err := m.syncStream(&views[i], e.streams[k])
			if err != nil {
				return m.rollback(&streamError{key: k, err: err})
			}
			next[i] = st
			inserted += n
		}
		if err := m.end("COMMIT"); err != nil {
			return m.rollback(err)
		}
		return nil
	}
	var err error
	for {
		err = e.internal.Raw(update)
		var se *streamError
		if err == nil || !errors.As(err, &se) || errors.Is(err, driver.ErrBadConn) || ctx.Err() != nil {
			break
		}
		broken[se.key] = se.err
		e.log.Error("sqlengine: a stream's view cannot be brought up to date; queries of it fail until it can",
			"stream", se.key.String(), "err", se.err)
	}
	if err != nil {
		if errors.Is(err, driver.ErrBadConn) {
			// The pool has dropped the internal connection; the next
			// update takes a new one.
			e.internal = nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("sqlengine: view update interrupted: %w", ctxErr)
		}
		return fmt.Errorf("sqlengine: cannot update views: %w", err)
	}
	for i := range views {
		e.streams[views[i].key()] = next[i]
	}
	e.batchesInserted += inserted
	return nil
}

// streamError is the failure to bring one stream's view up to date.
type streamError struct {
	key streamKey
	err error
}

func (e *streamError) Error() string { return "view " + e.key.String() + ": " + e.err.Error() }
func (e *streamError) Unwrap() error { return e.err }

// failView makes k's view one that fails every query that reads it, with
// cause as the message, and drops its tail table (the next update makes it
// anew).
func (m *maint) failView(k streamKey, cause error) error {
	if err := m.exec("CREATE SCHEMA IF NOT EXISTS " + quoteIdent(k.Account)); err != nil {
		return err
	}
	if err := m.exec("DROP TABLE IF EXISTS " + tailTable(k)); err != nil {
		return err
	}
	msg := fmt.Sprintf("stream %s cannot be queried: %v", k, cause)
	// In the filter too: a count(*) does not evaluate the select list.
	e := "error(" + quoteString(msg) + ")"
	return m.exec("CREATE OR REPLACE VIEW " + viewName(k) + " AS SELECT " + e + " AS " + quoteIdent("error") + " WHERE " + e + " IS NULL")
}

// maint runs maintenance statements on the internal driver connection.
type maint struct {
	ctx   context.Context
	exe   driver.ExecerContext
	qry   driver.QueryerContext
	arrow *duckdb.Arrow
	log   *slog.Logger
}

func newMaint(ctx context.Context, dc any, log *slog.Logger) (*maint, error) {
	exe, ok1 := dc.(driver.ExecerContext)
	qry, ok2 := dc.(driver.QueryerContext)
	conn, ok3 := dc.(driver.Conn)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("sqlengine: driver connection %T lacks Exec/Query", dc)
	}
	a, err := duckdb.NewArrowFromConn(conn)
	if err != nil {
		return nil, err
	}
	return &maint{ctx: ctx, exe: exe, qry: qry, arrow: a, log: log}, nil
}

// end runs COMMIT or ROLLBACK, even when the caller's ctx is cancelled.
func (m *maint) end(q string) error {
	if _, err := m.exe.ExecContext(context.WithoutCancel(m.ctx), q, nil); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// rollback ends the failed transaction. If even that fails, the
// connection's state is unknown and the error wraps driver.ErrBadConn, which
// makes database/sql discard the connection.
func (m *maint) rollback(cause error) error {
	if err := m.end("ROLLBACK"); err != nil {
		return errors.Join(cause, err, driver.ErrBadConn)
	}
	return cause
}

func (m *maint) exec(q string) error {
	if _, err := m.exe.ExecContext(m.ctx, q, nil); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// syncStream brings one stream's tail table and view up to date and returns
// its new state and how many batches it inserted. REQUIRES: Engine.mu held,
// a transaction open.
func (m *maint) syncStream(v *View, st streamState) (streamState, int, error) {
	if len(v.Parts) > 0 {
		return m.syncUnion(v, st)
	}
	n := v.key()
	table := tailTable(n)
	if st.schema == nil || !st.schema.Equal(v.Schema) {
		if err := m.exec("CREATE SCHEMA IF NOT EXISTS " + quoteIdent(n.Account)); err != nil {
			return st, 0, err
		}
		empty, err := array.NewRecordReader(v.Schema, nil)
		if err != nil {
			return st, 0, err
		}
		err = m.withArrowInput(empty, "CREATE OR REPLACE TABLE "+table+" AS SELECT * FROM "+quoteIdent(arrowInput))
		if err != nil {
			return st, 0, err
		}
		// The new table is empty: every id from filesEnd on must come again.
		st.schema, st.next, st.viewed = v.Schema, st.filesEnd, false
	}

	filesChanged := !slices.Equal(st.files, v.Files)
	var boundary int64 // ids below it are in v.Files
	switch {
	case len(v.Tail) > 0:
		boundary = v.Tail[0].FirstID
	case !filesChanged:
		boundary = st.filesEnd
	case len(v.Files) > 0:
		end, err := m.filesEnd(v.Files)
		if err != nil {
			return st, 0, err
		}
		boundary = end
	}
	// A picture older than the one the database shows (a concurrent caller
	// got ahead) must not bring back an older file list: rows already moved
	// out of the tail table would vanish. Keep the newer picture.
	stale := boundary < st.filesEnd
	if stale {
		m.log.Debug("sqlengine: older view state ignored", "stream", n.String(), "files_end", boundary, "have", st.filesEnd)
	} else if filesChanged {
		st.files, st.viewed = slices.Clone(v.Files), false
	}
	if !st.viewed {
		if err := m.exec(viewSQL(n, st.schema, st.files)); err != nil {
			return st, 0, err
		}
		st.viewed = true
	}
	if !stale && boundary > st.filesEnd {
		q := fmt.Sprintf("DELETE FROM %s WHERE %s < %d", table, quoteIdent(base.ColID), boundary)
		if err := m.exec(q); err != nil {
			return st, 0, err
		}
		st.filesEnd = boundary
	}
	st.next = max(st.next, st.filesEnd)

	// Every pending batch in one INSERT: a tail of single events is one
	// batch per event, and a statement per batch would cost the query a
	// DuckDB round trip per buffered event.
	var pending []arrow.RecordBatch
	defer func() {
		for _, r := range pending {
			r.Release()
		}
	}()
	next := st.next
	for _, tb := range v.Tail {
		rows := tb.Rec.NumRows()
		end := tb.FirstID + rows
		if end <= next {
			continue
		}
		if tb.FirstID > next {
			return st, 0, fmt.Errorf("sqlengine: view %s: ids %d..%d are neither in files nor in the tail", n, next, tb.FirstID-1)
		}
		pending = append(pending, tb.Rec.NewSlice(next-tb.FirstID, rows))
		next = end
	}
	if len(pending) == 0 {
		return st, 0, nil
	}
	groups := insertGroups(pending, maxInsertRows)
	defer func() {
		for _, g := range groups {
			for _, r := range g {
				r.Release()
			}
		}
	}()
	for _, group := range groups {
		if err := m.insert(table, group); err != nil {
			return st, 0, err
		}
	}
	st.next = next
	return st, len(pending), nil
}

// maxInsertRows bounds the rows of one INSERT from an Arrow view. Measured
// with duckdb-go v2.10506.0: an INSERT INTO t SELECT * FROM a registered
// Arrow view of more than 122,880 rows (DuckDB's row group size), in one
// record or several, inserts nothing and reports no error.
const maxInsertRows = 64 << 10

// insertGroups splits recs into groups of at most limit rows, in order,
// slicing records longer than limit. Every record of the groups is a new
// slice: the caller releases them.
func insertGroups(recs []arrow.RecordBatch, limit int64) [][]arrow.RecordBatch {
	var groups [][]arrow.RecordBatch
	var cur []arrow.RecordBatch
	rows := int64(0)
	add := func(r arrow.RecordBatch) {
		if rows+r.NumRows() > limit && len(cur) > 0 {
			groups = append(groups, cur)
			cur, rows = nil, 0
		}
		cur = append(cur, r)
		rows += r.NumRows()
	}
	for _, r := range recs {
		for lo := int64(0); lo < r.NumRows(); lo += limit {
			add(r.NewSlice(lo, min(lo+limit, r.NumRows())))
		}
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// insert appends recs, all of the table's schema, to table.
func (m *maint) insert(table string, recs []arrow.RecordBatch) error {
	rr, err := array.NewRecordReader(recs[0].Schema(), recs)
	if err != nil {
		return err
	}
	return m.withArrowInput(rr, "INSERT INTO "+table+" SELECT * FROM "+quoteIdent(arrowInput))
}

// withArrowInput registers rr as the view arrowInput, runs q (which must
// read the whole view once, all columns, no filter: SPEC 8), drops the view
// and releases the stream, in that order. The reader is released with it.
func (m *maint) withArrowInput(rr array.RecordReader, q string) error {
	release, err := m.arrow.RegisterView(rr, arrowInput)
	if err != nil {
		rr.Release()
		return fmt.Errorf("sqlengine: register Arrow input: %w", err)
	}
	defer release()
	runErr := m.exec(q)
	dropErr := m.exec("DROP VIEW IF EXISTS " + quoteIdent(arrowInput))
	if runErr != nil {
		return runErr // in an aborted transaction the drop fails too; ROLLBACK removes the view
	}
	return dropErr
}

// filesEnd returns one past the highest _id in files, reading the last file
// (all of them only if the last one is empty).
func (m *maint) filesEnd(files []string) (int64, error) {
	for _, list := range [][]string{files[len(files)-1:], files} {
		maxID, ok, err := m.maxID(list)
		if err != nil {
			return 0, err
		}
		if ok {
			return maxID + 1, nil
		}
	}
	return 0, nil
}

func (m *maint) maxID(files []string) (int64, bool, error) {
	q := fmt.Sprintf("SELECT max(%s) FROM %s", quoteIdent(base.ColID), readParquet(files))
	rows, err := m.qry.QueryContext(m.ctx, q, nil)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, false, nil
		}
		return 0, false, err
	}
	switch v := dest[0].(type) {
	case int64:
		return v, true, nil
	case nil:
		return 0, false, nil
	default:
		return 0, false, fmt.Errorf("sqlengine: max(%s) is a %T", base.ColID, v)
	}
}
