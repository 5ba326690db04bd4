package engine

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// TestEventRuns: the events of one request are buffered as runs (one batch
// per run of equal ts, type and typedness), untyped runs in their logged
// form. Every shape reads back the same from the unflushed tail, after a
// WAL replay, and after a flush that merges the batches into one segment.
func TestEventRuns(t *testing.T) {
	const ts = 4_000_000_000_000
	ev := func(typ, data string) Event {
		return Event{ContentType: "application/json", Type: typ, Data: []byte(data), Index: -1}
	}
	forced := func(e Event, ts int64) Event { e.TS, e.Forced = ts, true; return e }
	cases := []struct {
		name    string
		typed   bool // the stream defines the type "click"
		reqs    [][]Event
		batches []int64 // rows of each buffered batch
		events  []string
		data    []string // _data ("-": null, for typed rows)
		urls    []string // the typed column url, when typed
	}{
		{
			name:    "single events",
			reqs:    [][]Event{{ev("", "a")}, {ev("", "b")}, {ev("x", "c")}},
			batches: []int64{1, 1, 1},
			events:  []string{"application/json", "application/json", "x"},
			data:    []string{"a", "b", "c"},
		},
		{
			name:    "bulk of one type and ts",
			reqs:    [][]Event{{forced(ev("", "a"), ts), ev("", "b"), ev("", "c")}},
			batches: []int64{3},
			events:  []string{"application/json", "application/json", "application/json"},
			data:    []string{"a", "b", "c"},
		},
		{
			name:    "bulk split by type and ts",
			reqs:    [][]Event{{ev("p", "a"), ev("p", "b"), ev("q", "c"), forced(ev("q", "d"), ts), ev("q", "e")}},
			batches: []int64{2, 1, 2},
			events:  []string{"p", "p", "q", "q", "q"},
			data:    []string{"a", "b", "c", "d", "e"},
		},
		{
			name:  "typed and untyped in one request",
			typed: true,
			reqs: [][]Event{{ev("", "a"), ev("", "b"), ev("click", `{"url":"u1","xpath":[]}`), ev("click", `{"url":"u2","xpath":["p"]}`), ev("", "c")},
				{ev("", "d")}},
			batches: []int64{2, 2, 1, 1},
			events:  []string{"application/json", "application/json", "click", "click", "application/json", "application/json"},
			data:    []string{"a", "b", "-", "-", "c", "d"},
			urls:    []string{"-", "-", "u1", "u2", "-", "-"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			name := base.StreamName{Account: "a", Name: "runs"}
			e, st, opts := openEvents(t, name)
			if c.typed {
				if _, _, err := e.PutEventType(ctx, name, "click", []byte(clickType)); err != nil {
					t.Fatal(err)
				}
			}
			next := int64(0)
			for _, req := range c.reqs {
				ids, err := e.AppendEvents(ctx, st, req)
				if err != nil || len(ids) != len(req) || ids[0] != next {
					t.Fatalf("append: %v %v, want ids from %d", ids, err, next)
				}
				next += int64(len(req))
			}
			check := func(stage string, batches []int64) {
				t.Helper()
				if batches != nil {
					snap := st.Snapshot()
					var got []int64
					for _, b := range snap.Tail {
						got = append(got, b.Rows)
					}
					snap.Release()
					if !slices.Equal(got, batches) {
						t.Errorf("%s: batches of %v rows, want %v", stage, got, batches)
					}
				}
				recs := streamRows(t, e, st)
				ids := rowsOf(t, recs, base.ColID)
				if want := len(c.data); len(ids) != want || ids[0] != "0" || ids[want-1] != strconv.Itoa(want-1) {
					t.Errorf("%s: ids %v", stage, ids)
				}
				if got := rowsOf(t, recs, base.ColEvent); !slices.Equal(got, c.events) {
					t.Errorf("%s: _event %q, want %q", stage, got, c.events)
				}
				data := rowsOf(t, recs, base.ColData)
				for i, d := range data {
					if b, err := base64.StdEncoding.DecodeString(d); d != "-" && err == nil {
						data[i] = string(b) // ValueStr of binary is base64
					}
				}
				if !slices.Equal(data, c.data) {
					t.Errorf("%s: _data %q, want %q", stage, data, c.data)
				}
				if c.urls != nil {
					if got := rowsOf(t, recs, "url"); !slices.Equal(got, c.urls) {
						t.Errorf("%s: url %q, want %q", stage, got, c.urls)
					}
				}
				for i, ct := range rowsOf(t, recs, base.ColContentType) {
					if ct != "application/json" {
						t.Errorf("%s: row %d: _content_type %q", stage, i, ct)
					}
				}
			}
			check("tail", c.batches)
			e.log.Close()
			e.lock.Close()
			e, err := Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(ctx)
			st, _ = e.Stream(name)
			check("replayed", c.batches)
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			check("flushed", []int64{})
		})
	}
}
