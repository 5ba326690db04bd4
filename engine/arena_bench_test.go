package engine

import "testing"

// BenchmarkArenaCopy copies 100 KiB bodies through the arena, releasing
// them in flush-sized groups as the engine does.
func BenchmarkArenaCopy(b *testing.B) {
	a := newArena(4<<20, 64)
	body := make([]byte, 100<<10)
	var held []*chunk
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, c := a.copyIn(body)
		held = append(held, c)
		if len(held) == 264 { // about one flush of the demo topic
			for _, c := range held {
				c.release()
			}
			held = held[:0]
		}
	}
}
