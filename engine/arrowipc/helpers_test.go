package arrowipc

import (
	"bytes"
	"errors"
	"github.com/ducktail/ducktail/internal/sharedtest"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
)

type testFile struct {
	name string
	data []byte
}

// ipcFiles reads testdata/arrow-ipc/<sub> files whose name matches glob.
func ipcFiles(tb testing.TB, sub, glob string) []testFile {
	tb.Helper()
	dir, ok := sharedtest.Find()
	if !ok {
		tb.Skip("shared test data (../shared/testdata/arrow-ipc) is not present in this checkout")
	}
	names, err := filepath.Glob(filepath.Join(dir, "testdata", "arrow-ipc", sub, glob))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(names)
	if len(names) == 0 {
		tb.Fatalf("no files match %s/%s", sub, glob)
	}
	out := make([]testFile, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, testFile{name: filepath.Base(n), data: b})
	}
	return out
}

// isKindErr reports whether err wraps ErrInvalid or ErrTooLarge.
func isKindErr(err error) bool {
	return errors.Is(err, base.ErrInvalid) || errors.Is(err, base.ErrTooLarge)
}

// writeStream encodes batches with arrow-go's writer.
func writeStream(tb testing.TB, schema *arrow.Schema, recs []arrow.RecordBatch, opts ...ipc.Option) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, append([]ipc.Option{ipc.WithSchema(schema)}, opts...)...)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	// Copy into a fresh (8-byte aligned) slice.
	return append(make([]byte, 0, buf.Len()), buf.Bytes()...)
}

// sampleBatch builds a batch of n rows: int64, utf8 and float64 columns.
func sampleBatch(n int) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	names := b.Field(1).(*array.StringBuilder)
	vals := b.Field(2).(*array.Float64Builder)
	for i := 0; i < n; i++ {
		ids.Append(int64(i))
		if i%7 == 3 {
			names.AppendNull()
		} else {
			names.Append("event-" + string(rune('a'+i%26)))
		}
		vals.Append(float64(i) / 4)
	}
	return b.NewRecordBatch()
}

// sampleStream is an uncompressed stream of batches of n rows each.
func sampleStream(tb testing.TB, batches, n int) []byte {
	tb.Helper()
	recs := make([]arrow.RecordBatch, batches)
	for i := range recs {
		recs[i] = sampleBatch(n)
		defer recs[i].Release()
	}
	return writeStream(tb, recs[0].Schema(), recs)
}

// arrowGoRead reads body with arrow-go's own reader.
func arrowGoRead(body []byte) (*arrow.Schema, []arrow.RecordBatch, error) {
	r, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	defer r.Release()
	var recs []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	return r.Schema(), recs, r.Err()
}
