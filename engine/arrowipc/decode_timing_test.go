package arrowipc

import (
	"fmt"
	"testing"
)

// BenchmarkDecode decodes one-batch streams of int64, utf8 and float64
// columns of about 10 KiB and 100 KiB: allocations per op must not grow
// with the body.
func BenchmarkDecode(b *testing.B) {
	for _, rows := range []int{400, 4000} {
		body := sampleStream(b, 1, rows)
		b.Run(fmt.Sprintf("%dKiB", len(body)>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				s, err := Decode(body, nil, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				s.Release()
			}
		})
	}
}
