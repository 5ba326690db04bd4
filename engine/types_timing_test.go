package engine

import (
	"context"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// BenchmarkAppendEvent compares one-event appends of the seed's click body,
// untyped and typed (validated and built into columns), without fsync.
func BenchmarkAppendEvent(b *testing.B) {
	for _, typed := range []bool{false, true} {
		name := "untyped"
		if typed {
			name = "typed"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			e, err := Open(ctx, Options{DataDir: b.TempDir(), Durability: DurabilityBuffered, MemoryBudget: 4 << 30})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			sn := base.StreamName{Account: "user", Name: "stream"}
			st, err := e.CreateEventStream(ctx, sn)
			if err != nil {
				b.Fatal(err)
			}
			if typed {
				if _, _, err := e.PutEventType(ctx, sn, "click", []byte(clickType)); err != nil {
					b.Fatal(err)
				}
			}
			body := []byte(`{"url": "https://pipet.io", "xpath": ["html", "body", "div", "a"]}`)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := e.AppendEvent(ctx, st, Event{ContentType: "application/json", Type: "click", Data: body, Index: -1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
