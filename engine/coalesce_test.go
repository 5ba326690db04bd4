package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// TestFlushMergesSmallBatches: a flush of single events of several types
// (merged into few records), of a bulk push of mixed types, and of a bulk
// push of one type (one batch) stores exactly the rows the buffer showed,
// column by column.
func TestFlushMergesSmallBatches(t *testing.T) {
	ctx := context.Background()
	name := base.StreamName{Account: "user", Name: "stream"}
	e, st, _ := openEvents(t, name)
	defer e.Close(ctx)
	if _, _, err := e.PutEventType(ctx, name, "view", []byte(viewType)); err != nil {
		t.Fatal(err)
	}
	single := func(i int) Event {
		switch i % 3 {
		case 0:
			return Event{ContentType: "text/plain", Data: []byte(fmt.Sprintf("plain %d", i)), Index: -1}
		case 1:
			return Event{ContentType: "application/json", Type: "view", Index: -1,
				Data: []byte(fmt.Sprintf(`{"url":"u%d","n":%d,"kind":"%s"}`, i, i%200, []string{"a", "b"}[i%2]))}
		}
		return Event{ContentType: "application/octet-stream", Type: "bin", Data: []byte{byte(i), 0, 0xff}, Index: -1}
	}
	for i := range 1500 {
		if _, err := e.AppendEvent(ctx, st, single(i)); err != nil {
			t.Fatal(err)
		}
	}
	bulk := make([]Event, 2000)
	for i := range bulk {
		bulk[i] = single(i)
	}
	if _, err := e.AppendEvents(ctx, st, bulk); err != nil {
		t.Fatal(err)
	}
	// One type, one ts: one batch of 300 rows.
	same := make([]Event, 300)
	for i := range same {
		same[i] = single(3*i + 2)
	}
	if _, err := e.AppendEvents(ctx, st, same); err != nil {
		t.Fatal(err)
	}
	for i := range 700 {
		if _, err := e.AppendEvent(ctx, st, single(i)); err != nil {
			t.Fatal(err)
		}
	}
	cols := []string{base.ColID, base.ColTS, base.ColEvent, base.ColSub, base.ColTenant, base.ColContentType, base.ColData, "url", "n", "kind"}
	render := func() map[string][]string {
		recs := streamRows(t, e, st)
		out := make(map[string][]string)
		for _, c := range cols {
			out[c] = rowsOf(t, recs, c)
		}
		return out
	}
	snap := st.Snapshot()
	batches := len(snap.Tail)
	snap.Release()
	// 1,500 + 700 single events, 2,000 bulk events that alternate types,
	// and one batch for the 300 bulk events of one type.
	if batches != 1500+2000+1+700 {
		t.Fatalf("%d batches buffered, want %d", batches, 1500+2000+1+700)
	}
	before := render()
	if got := len(before[base.ColID]); got != 4500 {
		t.Fatalf("%d rows buffered, want 4500", got)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	snap = st.Snapshot()
	n := len(snap.Tail)
	snap.Release()
	if n != 0 {
		t.Fatalf("%d batches still buffered after the flush", n)
	}
	after := render()
	for _, c := range cols {
		if !slices.Equal(before[c], after[c]) {
			for i := range before[c] {
				if i >= len(after[c]) || before[c][i] != after[c][i] {
					t.Fatalf("column %s differs after the flush at row %d: %q before", c, i, before[c][i])
				}
			}
			t.Fatalf("column %s: %d rows after the flush, %d before", c, len(after[c]), len(before[c]))
		}
	}
}
