package wal

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkAppendWait measures Append+Wait in Sync mode against a temp dir:
// MB/s and records/s for several writer counts and record sizes.
func BenchmarkAppendWait(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		for _, writers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("size=%dKiB/writers=%d", size>>10, writers), func(b *testing.B) {
				benchAppendWait(b, writers, size)
			})
		}
	}
}

func benchAppendWait(b *testing.B, writers, size int) {
	l, err := Open(Options{Dir: b.TempDir(), MaxPendingBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := make([]byte, size)
	for i := range rec {
		rec[i] = byte(i)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	total := int64(b.N)
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			for next.Add(1) <= total {
				pos, err := l.Append(rec)
				if err == nil {
					err = l.Wait(context.Background(), pos)
				}
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
