package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query"
)

func TestFill(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	args := []string{"-data", dir, "-stream", "a/small=120", "-stream", "a/big=1050",
		"-engine-events", "50", "-segment-rows", "300", "-group", "7", "-size", "60"}
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// 50 through the engine, then 1000 direct rows in segments of 300.
	if !strings.Contains(out.String(), "a/big: 1050 events in 5 segments") ||
		!strings.Contains(out.String(), "a/small: 120 events in 2 segments") {
		t.Fatalf("report:\n%s", out.String())
	}
	// A second run over a full data dir changes nothing; a smaller count
	// is refused.
	out.Reset()
	if err := run(context.Background(), args, &out, io.Discard); err != nil || strings.Contains(out.String(), "written") {
		t.Fatalf("rerun: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"-data", dir, "-stream", "a/big=10"}, io.Discard, io.Discard); err == nil {
		t.Fatal("shrinking a stream was not refused")
	}

	// The events read back through the engine and the query path are
	// dense, in order and carry their index.
	eng, err := engine.Open(context.Background(), engine.Options{DataDir: dir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	st, err := eng.Stream(base.StreamName{Account: "a", Name: "big"})
	if err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	defer snap.Release()
	r := query.AllRange()
	r.From, r.To = 40, 360 // across the engine's segment and two direct ones
	want := int64(40)
	err = query.Read(context.Background(), eng.Store(), snap, r, func(rec arrow.RecordBatch) error {
		ids := rec.Column(0).(*array.Int64)
		for i := 0; i < ids.Len(); i++ {
			if ids.Value(i) != want {
				t.Fatalf("id %d, want %d", ids.Value(i), want)
			}
			want++
		}
		return nil
	})
	if err != nil || want != 360 {
		t.Fatalf("read up to %d: %v", want, err)
	}
}
