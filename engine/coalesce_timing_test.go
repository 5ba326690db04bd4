package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// BenchmarkFlushSingleEvents: flushing a buffer of 20,000 single events
// (one batch each), in rows/s.
func BenchmarkFlushSingleEvents(b *testing.B) {
	ctx := context.Background()
	e, err := Open(ctx, Options{DataDir: b.TempDir(), manualFlush: true, Durability: DurabilityBuffered})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(ctx)
	st, err := e.CreateEventStream(ctx, base.StreamName{Account: "user", Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	const n = 20000
	body := []byte(`{"url":"https://example.com/a/b","n":12345,"kind":"click"}`)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for i := range n {
			ev := Event{ContentType: "application/json", Type: fmt.Sprint("t", i%4), Data: body, Index: -1}
			if _, err := e.AppendEvent(ctx, st, ev); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := e.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
