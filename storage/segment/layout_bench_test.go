package segment_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/internal/mempool"
	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// layouts are the segment layouts the layout benchmarks weigh: rows per
// row group, data page bytes, and rows per page of the columns cut by rows
// (noRowCut: by size only, as before PageRows).
var layouts = []segment.WriterOptions{
	{RowGroupRows: 128 << 10, PageSize: 64 << 10, PageRows: noRowCut},
	{RowGroupRows: 128 << 10, PageSize: 64 << 10, PageRows: 16 << 10},
	{RowGroupRows: 128 << 10, PageSize: 64 << 10, PageRows: 8 << 10},
	{RowGroupRows: 128 << 10, PageSize: 64 << 10, PageRows: 4 << 10},
	{RowGroupRows: 32 << 10, PageSize: 64 << 10, PageRows: noRowCut},
}

const noRowCut = 1 << 40

func layoutName(o segment.WriterOptions) string {
	rows := "size"
	if o.PageRows != noRowCut {
		rows = fmt.Sprintf("%dk", o.PageRows>>10)
	}
	return fmt.Sprintf("group=%dk/page=%dk/rows=%s", o.RowGroupRows>>10, o.PageSize>>10, rows)
}

// BenchmarkReadLayout weighs the segment layout (rows per row group, data
// page size, rows per page) for 1,000-row reads at random offsets of a
// 1M-row segment of untyped events, through one open Reader with the
// pooled allocator, as query.Reader reads. A seek read skips, in every
// column with one page per group (cut by size only, _ts encodes to almost
// nothing), the values from the row group's start: pages cut by rows, or
// smaller groups, bound that work; smaller pages bound the decompression
// of _data. file_bytes is the cost.
func BenchmarkReadLayout(b *testing.B) {
	const rows, n = 1_000_000, 1000
	recs := segmenttest.EventBatches(memory.DefaultAllocator, 0, rows, 10_000)
	defer segmenttest.Release(recs)
	for _, opts := range layouts {
		{
			b.Run(layoutName(opts), func(b *testing.B) {
				var buf bytes.Buffer
				if _, err := segment.Write(&buf, segmenttest.EventSchema(), recs, opts); err != nil {
					b.Fatal(err)
				}
				path := filepath.Join(b.TempDir(), "seg.parquet")
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					b.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				rd, err := segment.Open(f, int64(buf.Len()), mempool.New())
				if err != nil {
					b.Fatal(err)
				}
				defer rd.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				b.ReportAllocs()
				for b.Loop() {
					readRandom(b, rd, rng, rows, n)
				}
				b.ReportMetric(float64(buf.Len()), "file_bytes")
			})
		}
	}
}

// BenchmarkWriteLayout is what the layouts of BenchmarkReadLayout cost the
// flush: writing the same 1M-row segment.
func BenchmarkWriteLayout(b *testing.B) {
	const rows = 1_000_000
	recs := segmenttest.EventBatches(memory.DefaultAllocator, 0, rows, 10_000)
	defer segmenttest.Release(recs)
	for _, opts := range layouts {
		{
			b.Run(layoutName(opts), func(b *testing.B) {
				var buf bytes.Buffer
				for b.Loop() {
					buf.Reset()
					if _, err := segment.Write(&buf, segmenttest.EventSchema(), recs, opts); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(segmenttest.Size(recs))
			})
		}
	}
}
