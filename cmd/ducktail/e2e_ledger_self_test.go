package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// synthRow is a stored row made up for the verifier's own test.
type synthRow struct {
	id, ts int64
	k      batchKey
	row    int
}

// synthCols builds the stored columns of rows; tenant is null and the
// payload is what a crash-test client sends.
func synthCols(t *testing.T, rows []synthRow) storedCols {
	t.Helper()
	mem := memory.DefaultAllocator
	id, ts := array.NewInt64Builder(mem), array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"})
	ev, pev := array.NewStringBuilder(mem), array.NewStringBuilder(mem)
	tenant, pts, val := array.NewUint32Builder(mem), array.NewInt64Builder(mem), array.NewFloat64Builder(mem)
	for _, r := range rows {
		code := rowCode(r.k, r.row)
		id.Append(r.id)
		ts.Append(arrow.Timestamp(r.ts))
		ev.Append(arrowType)
		tenant.AppendNull()
		pts.Append(code)
		pev.Append(r.k.label())
		val.Append(float64(code))
	}
	c := storedCols{
		id: id.NewInt64Array(), ts: ts.NewTimestampArray(), event: ev.NewStringArray(), tenant: tenant.NewUint32Array(),
		pts: pts.NewInt64Array(), pevent: pev.NewStringArray(), value: val.NewFloat64Array(),
	}
	t.Cleanup(func() {
		for _, a := range []arrow.Array{c.id, c.ts, c.event, c.tenant, c.pts, c.pevent, c.value} {
			a.Release()
		}
	})
	return c
}

// TestVerifierCatches checks that the crash test's verifier reports each
// kind of damage, and nothing on a good stream, so that TestCrashKill9 can
// fail.
func TestVerifierCatches(t *testing.T) {
	a, b, c := batchKey{0, 0, 0}, batchKey{0, 1, 0}, batchKey{0, 2, 7}
	// rowsOf lays out batches in order from id 0, each row at ts 100+id.
	rowsOf := func(parts ...[2]int) []synthRow { // {batch index, row}
		keys := []batchKey{a, b, c}
		var out []synthRow
		for i, p := range parts {
			out = append(out, synthRow{id: int64(i), ts: 100 + int64(i), k: keys[p[0]], row: p[1]})
		}
		return out
	}
	good := rowsOf([2]int{0, 0}, [2]int{0, 1}, [2]int{0, 2}, [2]int{1, 0}, [2]int{1, 1})
	f := func(name string, rows []synthRow, setup func(l *ledger), want string) {
		t.Helper()
		l := newLedger()
		l.sent(a, 3)
		l.sent(b, 2)
		l.sent(c, 1)
		l.acked(a, ingestAck{Topic: "demo/events", Rows: 3, FirstID: 0, LastID: 2})
		if setup != nil {
			setup(l)
		}
		var got []string
		v := newVerifier(l, func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) })
		if len(rows) > 0 {
			v.add(synthCols(t, rows), len(rows))
		}
		v.finish()
		all := strings.Join(got, "\n")
		if want == "" && len(got) > 0 || want != "" && !strings.Contains(all, want) {
			t.Errorf("%s: errors %q, want %q", name, all, want)
		}
	}
	f("good", good, nil, "")
	f("good, b found durable before", good, func(l *ledger) {
		l.batches[b].durable, l.batches[b].firstID, l.batches[b].firstTS = true, 3, 103
	}, "")
	f("empty stream loses the ack", nil, nil, "acknowledged batch c0/0/0 (3 rows at ids 0..2) is lost")
	f("ack at other ids", good, func(l *ledger) { l.batches[a].ack.FirstID = 2 }, "is lost or moved")
	f("half batch at the end", good[:4], nil, "the last batch c0/1/0 has only 1 of its 2 rows")
	f("half batch inside", rowsOf([2]int{1, 0}, [2]int{0, 0}, [2]int{0, 1}, [2]int{0, 2}), func(l *ledger) {
		l.batches[a].acked = false
	}, "while c0/1/0 has only 1 of its 2 rows")
	f("gap in ids", append(good[:2:2], synthRow{id: 3, ts: 103, k: a, row: 2}), nil, "ids are not dense")
	f("ts goes back", []synthRow{{0, 100, a, 0}, {1, 99, a, 1}, {2, 101, a, 2}}, nil, "_ts 99 is before the previous 100")
	f("unknown batch", append(good[:3:3], synthRow{id: 3, ts: 103, k: batchKey{0, 5, 0}, row: 0}), nil, "belongs to no batch that was sent")
	f("row past the batch", append(good[:3:3], synthRow{id: 3, ts: 103, k: c, row: 1}), nil, "row 1 of c0/2/7, which had 1 rows")
	f("duplicate", append(good[:3:3], synthRow{3, 103, a, 0}, synthRow{4, 104, a, 1}, synthRow{5, 105, a, 2}), nil, "c0/0/0 is present twice")
	f("rows out of order", []synthRow{{0, 100, a, 0}, {1, 101, a, 2}, {2, 102, a, 1}}, nil, "holds row 2 of c0/0/0; want row 1")
	f("durable batch vanished", good[:3], func(l *ledger) {
		l.batches[b].durable, l.batches[b].firstID, l.batches[b].firstTS = true, 3, 103
	}, "found at id 3 with _ts 103 by an earlier restart, is gone or changed")
	f("durable batch changed _ts", good, func(l *ledger) {
		l.batches[b].durable, l.batches[b].firstID, l.batches[b].firstTS = true, 3, 50
	}, "is gone or changed")
}

// TestRowCode checks that row codes round-trip at the edges of their ranges
// and stay exact in a float64.
func TestRowCode(t *testing.T) {
	for _, k := range []batchKey{{0, 0, 0}, {4, crashClients - 1, maxSeq - 1}, {3, 2, 12345}} {
		for _, row := range []int{0, 1, maxBatchRows - 1} {
			code := rowCode(k, row)
			gk, grow := decodeRow(code)
			if gk != k || grow != row || float64(code) >= 1<<53 || int64(float64(code)) != code {
				t.Errorf("rowCode(%v, %d) = %d decodes to %v, %d", k, row, code, gk, grow)
			}
		}
	}
}
