package segment_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// BenchmarkReadRange reads 1,000 rows at a random offset from a segment of
// untyped events (~100-byte _data) in a file, the way a GET ?from=&to=
// does. "reopen" opens the file and parses the footer on each read (as
// query.readSegment did); "open" keeps one Reader. The segment sizes show
// whether the cost depends on the segment's size (it should not).
func BenchmarkReadRange(b *testing.B) {
	for _, rows := range []int64{100_000, 1_000_000} {
		recs := segmenttest.EventBatches(memory.DefaultAllocator, 0, rows, 10_000)
		var buf bytes.Buffer
		if _, err := segment.Write(&buf, segmenttest.EventSchema(), recs, segment.WriterOptions{}); err != nil {
			b.Fatal(err)
		}
		segmenttest.Release(recs)
		path := filepath.Join(b.TempDir(), "seg.parquet")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		size := int64(buf.Len())
		read := func(b *testing.B, rd *segment.Reader, rng *rand.Rand) { readRandom(b, rd, rng, rows, 1000) }
		name := map[int64]string{100_000: "100k", 1_000_000: "1M"}[rows]
		b.Run(name+"/reopen", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				rd, err := segment.Open(f, size, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				read(b, rd, rng)
				rd.Close()
				f.Close()
			}
		})
		b.Run(name+"/open", func(b *testing.B) {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			rd, err := segment.Open(f, size, memory.DefaultAllocator)
			if err != nil {
				b.Fatal(err)
			}
			defer rd.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				read(b, rd, rng)
			}
		})
	}
}

// BenchmarkWriteSize writes 1M rows of the demo topic and of untyped events
// (10k-row batches) and reports the file size, to weigh the page index and
// page size against the write time.
func BenchmarkWriteSize(b *testing.B) {
	for _, c := range []struct {
		name string
		mk   func() ([]arrow.RecordBatch, *arrow.Schema)
	}{
		{"demo", func() ([]arrow.RecordBatch, *arrow.Schema) {
			return segmenttest.DemoBatches(memory.DefaultAllocator, 0, 1_000_000, 10_000), segmenttest.DemoSchema()
		}},
		{"events", func() ([]arrow.RecordBatch, *arrow.Schema) {
			return segmenttest.EventBatches(memory.DefaultAllocator, 0, 1_000_000, 10_000), segmenttest.EventSchema()
		}},
	} {
		recs, s := c.mk()
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(segmenttest.Size(recs))
			var info segment.Info
			for b.Loop() {
				var err error
				if info, err = segment.Write(io.Discard, s, recs, segment.WriterOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(info.Bytes), "file-bytes")
		})
		segmenttest.Release(recs)
	}
}

// readRandom reads n rows at a random offset of the rows-row segment rd
// and fails b unless it got them.
func readRandom(b *testing.B, rd *segment.Reader, rng *rand.Rand, rows, n int64) {
	from := rng.Int64N(rows - n)
	got, err := rd.ReadRange(context.Background(), from, from+n, math.MinInt64, math.MaxInt64, 0)
	if err != nil {
		b.Fatal(err)
	}
	var m int64
	for _, r := range got {
		m += r.NumRows()
		r.Release()
	}
	if m != n {
		b.Fatalf("read %d rows, want %d", m, n)
	}
}
