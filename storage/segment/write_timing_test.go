package segment_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/ducktail/ducktail/storage/segment"
	"github.com/ducktail/ducktail/storage/segment/segmenttest"
)

// rawWrite is the baseline: a plain pqarrow.FileWriter with the same
// properties, no checks, no CRC, no Info.
func rawWrite(w io.Writer, s *arrow.Schema, recs []arrow.RecordBatch, opts segment.WriterOptions) error {
	fw, err := pqarrow.NewFileWriter(s, w, opts.WriterProperties(s), opts.ArrowWriterProperties())
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := fw.WriteBuffered(r); err != nil {
			return err
		}
	}
	return fw.Close()
}

// BenchmarkWrite compares segment.Write with the raw pqarrow write of the
// same 1M demo rows (10k-row batches) to io.Discard. The "ratio"
// sub-benchmark runs both in each iteration and reports
// raw-time/segment-time as "ratio" (the target is >= 0.9) and the same
// ratio of CPU time as "cpu-ratio".
func BenchmarkWrite(b *testing.B) {
	recs := segmenttest.DemoBatches(memory.DefaultAllocator, 0, 1_000_000, 10_000)
	defer segmenttest.Release(recs)
	s := segmenttest.DemoSchema()
	opts := segment.WriterOptions{}
	size := segmenttest.Size(recs)
	seg := func(b *testing.B) {
		if _, err := segment.Write(io.Discard, s, recs, opts); err != nil {
			b.Fatal(err)
		}
	}
	raw := func(b *testing.B) {
		if err := rawWrite(io.Discard, s, recs, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("segment", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			seg(b)
		}
	})
	b.Run("raw-pqarrow", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			raw(b)
		}
	})
	b.Run("ratio", func(b *testing.B) {
		b.SetBytes(2 * size)
		var segTime, rawTime, segCPU, rawCPU time.Duration
		for b.Loop() {
			t0, c0 := time.Now(), segmenttest.CPUTime()
			seg(b)
			t1, c1 := time.Now(), segmenttest.CPUTime()
			raw(b)
			segTime += t1.Sub(t0)
			rawTime += time.Since(t1)
			segCPU += c1 - c0
			rawCPU += segmenttest.CPUTime() - c1
		}
		b.ReportMetric(float64(rawTime)/float64(segTime), "ratio")
		b.ReportMetric(float64(rawCPU)/float64(segCPU), "cpu-ratio")
	})
}

// BenchmarkWriteIngest writes 1M demo rows shaped as the engine's flush
// hands them over after HTTP Arrow ingestion: ~3,800-row records (a 100 KiB
// IPC body each), one _ts per record, _event a one-value dictionary, _sub
// and _tenant null. It reports the file size and the compression ratio
// (Arrow bytes / file bytes) and the process CPU time beside the speed.
func BenchmarkWriteIngest(b *testing.B) {
	recs := segmenttest.IngestBatches(memory.DefaultAllocator, 0, 1_000_000, 3_800)
	defer segmenttest.Release(recs)
	s := segmenttest.DemoSchema()
	size := segmenttest.Size(recs)
	b.SetBytes(size)
	b.ReportAllocs()
	var info segment.Info
	c0 := segmenttest.CPUTime()
	for b.Loop() {
		var err error
		if info, err = segment.Write(io.Discard, s, recs, segment.WriterOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	// Process CPU (GC included) per write: steadier than wall time on a
	// shared machine.
	b.ReportMetric(float64((segmenttest.CPUTime()-c0).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(info.Bytes), "file-bytes")
	b.ReportMetric(float64(size)/float64(info.Bytes), "ratio")
}

// BenchmarkWriteZstdLevel weighs the zstd level: speed, CPU and file size
// of 1M rows of the ingest-shaped demo topic and of untyped JSON events
// written at zstd levels 1 (SpeedFastest), 3 (SpeedDefault) and 7
// (SpeedBetterCompression).
func BenchmarkWriteZstdLevel(b *testing.B) {
	for _, c := range []struct {
		name string
		mk   func() ([]arrow.RecordBatch, *arrow.Schema)
	}{
		{"demo", func() ([]arrow.RecordBatch, *arrow.Schema) {
			return segmenttest.IngestBatches(memory.DefaultAllocator, 0, 1_000_000, 3_800), segmenttest.DemoSchema()
		}},
		{"events", func() ([]arrow.RecordBatch, *arrow.Schema) {
			return segmenttest.EventBatches(memory.DefaultAllocator, 0, 1_000_000, 1_000), segmenttest.EventSchema()
		}},
	} {
		recs, s := c.mk()
		size := segmenttest.Size(recs)
		for _, level := range []int{1, 3, 7} {
			b.Run(fmt.Sprintf("%s/level=%d", c.name, level), func(b *testing.B) {
				b.SetBytes(size)
				var info segment.Info
				c0 := segmenttest.CPUTime()
				for b.Loop() {
					var err error
					if info, err = segment.Write(io.Discard, s, recs, segment.WriterOptions{CompressionLevel: level}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((segmenttest.CPUTime()-c0).Milliseconds())/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(info.Bytes), "file-bytes")
			})
		}
		segmenttest.Release(recs)
	}
}
