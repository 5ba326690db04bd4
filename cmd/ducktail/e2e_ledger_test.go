package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"sync"
	"testing"
)

// The crash test's bookkeeping. Every batch a client sends is identified by
// a batchKey, and each of its rows carries that key and its row number in
// the payload: value = float64(code), timestamp = code, event = label, with
// code = ((cycle*crashClients+client)*maxSeq+seq)*maxBatchRows + row. Codes
// stay below 2^53, so float64 holds them exactly.
const (
	crashClients = 8
	maxSeq       = 1_000_000
	maxBatchRows = 1_000
)

type batchKey struct{ cycle, client, seq int }

func (k batchKey) label() string { return fmt.Sprintf("c%d/%d/%d", k.cycle, k.client, k.seq) }

func rowCode(k batchKey, row int) int64 {
	return ((int64(k.cycle)*crashClients+int64(k.client))*maxSeq+int64(k.seq))*maxBatchRows + int64(row)
}

// decodeRow inverts rowCode.
func decodeRow(code int64) (batchKey, int) {
	row := int(code % maxBatchRows)
	code /= maxBatchRows
	seq := int(code % maxSeq)
	code /= maxSeq
	return batchKey{cycle: int(code / crashClients), client: int(code % crashClients), seq: seq}, row
}

// batchRows builds the rows of batch k.
func batchRows(k batchKey, n int) []demoRow {
	rows := make([]demoRow, n)
	for i := range rows {
		c := rowCode(k, i)
		rows[i] = demoRow{Timestamp: c, Event: k.label(), Value: float64(c)}
	}
	return rows
}

// sentBatch is what the test knows of one batch.
type sentBatch struct {
	rows  int
	acked bool
	ack   ingestAck
	// durable: the batch was found after a restart, at firstID with the
	// _ts firstTS; from then on it must stay there, unchanged.
	durable bool
	firstID int64
	firstTS int64
}

// ledger records every batch sent, across kill/restart cycles. Safe for
// concurrent use by the clients.
type ledger struct {
	mu      sync.Mutex
	batches map[batchKey]*sentBatch
}

func newLedger() *ledger { return &ledger{batches: map[batchKey]*sentBatch{}} }

func (l *ledger) sent(k batchKey, rows int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.batches[k] = &sentBatch{rows: rows}
}

func (l *ledger) acked(k batchKey, a ingestAck) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.batches[k]
	b.acked, b.ack = true, a
}

func (l *ledger) counts() (sent, acked, durable int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.batches {
		sent++
		if b.acked {
			acked++
		}
		if b.durable {
			durable++
		}
	}
	return
}

// errorCap reports the first 20 errors and counts the rest, so a broken
// run does not print a million lines.
type errorCap struct {
	report func(format string, args ...any) // t.Errorf
	n      int
}

func (e *errorCap) errorf(format string, args ...any) {
	e.n++
	if e.n <= 20 {
		e.report(format, args...)
	}
}

// verify reads every event of demo/events from a restarted server and
// checks it against the ledger: ids 0..n-1 in order, _ts non-decreasing,
// every row from a batch that was sent, every batch present wholly or not at
// all and at most once, with its rows in order at consecutive ids; every
// acknowledged batch at exactly its acknowledged ids; every batch found by
// an earlier restart still at the same ids. Then the batches found become
// durable in the ledger. It returns n.
func (l *ledger) verify(t *testing.T, p *proc) int64 {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	v := newVerifier(l, t.Errorf)
	n := p.scanArrow(250_000, v.add)
	v.finish()
	if v.ec.n > 20 {
		t.Errorf("... and %d more errors", v.ec.n-20)
	}
	return n
}

// foundAt is where verify found a batch's first row.
type foundAt struct{ id, ts int64 }

// verifier checks rows in id order; see ledger.verify. REQUIRES: l.mu held.
type verifier struct {
	l      *ledger
	ec     *errorCap
	found  map[batchKey]foundAt // batch -> its row 0
	n      int64                // rows seen
	prevTS int64
	broken bool // ids went wrong: later rows are not checked

	cur      *sentBatch // the batch of the previous row
	curKey   batchKey
	curLabel string
	next     int // the row of cur expected next
}

func newVerifier(l *ledger, report func(format string, args ...any)) *verifier {
	return &verifier{l: l, ec: &errorCap{report: report}, found: map[batchKey]foundAt{}, prevTS: math.MinInt64}
}

func (v *verifier) add(c storedCols, rows int) error {
	for i := 0; i < rows; i++ {
		id := c.id.Value(i)
		v.n++
		if v.broken || v.ec.n >= 1000 {
			continue
		}
		if id != v.n-1 {
			v.ec.errorf("row %d has _id %d: ids are not dense from 0", v.n-1, id)
			v.broken = true
			continue
		}
		ts := int64(c.ts.Value(i))
		if ts < v.prevTS {
			v.ec.errorf("_id %d: _ts %d is before the previous %d", id, ts, v.prevTS)
		} else {
			v.prevTS = ts
		}
		if c.tenant.IsValid(i) || c.event.Value(i) != arrowType {
			v.ec.errorf("_id %d: _event %q, _tenant valid %v; want %q and null", id, c.event.Value(i), c.tenant.IsValid(i), arrowType)
		}
		val, code := c.value.Value(i), c.pts.Value(i)
		if val != math.Trunc(val) || val < 0 || val >= 1<<53 || int64(val) != code {
			v.ec.errorf("_id %d: value %v and timestamp %d do not match", id, val, code)
			continue
		}
		k, row := decodeRow(code)
		b := v.l.batches[k]
		switch {
		case b == nil:
			v.ec.errorf("_id %d (%s row %d) belongs to no batch that was sent", id, k.label(), row)
		case row >= b.rows:
			v.ec.errorf("_id %d: row %d of %s, which had %d rows", id, row, k.label(), b.rows)
		case row == 0:
			if v.cur != nil && v.next != v.cur.rows {
				v.ec.errorf("_id %d starts %s while %s has only %d of its %d rows: a batch is half present",
					id, k.label(), v.curLabel, v.next, v.cur.rows)
			}
			if _, dup := v.found[k]; dup {
				v.ec.errorf("_id %d: %s is present twice", id, k.label())
			}
			v.found[k] = foundAt{id: id, ts: ts}
			v.cur, v.curKey, v.curLabel, v.next = b, k, k.label(), 1
		case b != v.cur || row != v.next:
			v.ec.errorf("_id %d holds row %d of %s; want row %d of %s", id, row, k.label(), v.next, v.curLabel)
		default:
			v.next++
		}
		if b != nil && c.pevent.Value(i) != v.curLabel && b == v.cur {
			v.ec.errorf("_id %d: event %q, want %q", id, c.pevent.Value(i), v.curLabel)
		}
	}
	return nil
}

func (v *verifier) finish() {
	if v.cur != nil && v.next != v.cur.rows {
		v.ec.errorf("the last batch %s has only %d of its %d rows: a batch is half present", v.curLabel, v.next, v.cur.rows)
	}
	keys := make([]batchKey, 0, len(v.l.batches))
	for k := range v.l.batches {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return rowCode(keys[i], 0) < rowCode(keys[j], 0) })
	for _, k := range keys {
		b := v.l.batches[k]
		f, ok := v.found[k]
		if b.acked && (!ok || f.id != b.ack.FirstID) {
			v.ec.errorf("acknowledged batch %s (%d rows at ids %d..%d) is lost or moved (found: %v at %d)",
				k.label(), b.rows, b.ack.FirstID, b.ack.LastID, ok, f.id)
		}
		if b.durable && (!ok || f.id != b.firstID || f.ts != b.firstTS) {
			v.ec.errorf("batch %s, found at id %d with _ts %d by an earlier restart, is gone or changed (found: %v at id %d, _ts %d)",
				k.label(), b.firstID, b.firstTS, ok, f.id, f.ts)
		}
		if ok {
			b.durable, b.firstID, b.firstTS = true, f.id, f.ts
		}
	}
}

// checkSQLCount checks /sql against n: count(*), distinct ids, min and max.
func checkSQLCount(t *testing.T, p *proc, n int64) {
	t.Helper()
	body := p.sql("select count(*) as n, count(distinct _id) as d, coalesce(min(_id), -1) as lo, coalesce(max(_id), -1) as hi from demo.events")
	var got []struct{ N, D, Lo, Hi int64 }
	if err := json.Unmarshal(body, &got); err != nil || len(got) != 1 {
		t.Fatalf("/sql: %s (%v)", body, err)
	}
	if g := got[0]; g.N != n || g.D != n || g.Lo != min(0, n-1) || g.Hi != n-1 {
		t.Errorf("/sql sees count %d, distinct ids %d, ids [%d, %d]; want %d rows, ids [0, %d]", g.N, g.D, g.Lo, g.Hi, n, n-1)
	}
}
