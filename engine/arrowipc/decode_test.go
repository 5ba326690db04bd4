package arrowipc

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
)

func TestValidMatchesArrowGo(t *testing.T) {
	files := append(ipcFiles(t, "valid", "*.stream"), ipcFiles(t, "oversize", "*.stream")...)
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			s, err := Decode(f.data, mem, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			defer s.Release()
			schema, recs, err := arrowGoRead(f.data)
			if err != nil {
				t.Fatalf("arrow-go: %v", err)
			}
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			if !schema.Equal(s.Schema) {
				t.Fatalf("schema differs:\n got %v\nwant %v", s.Schema, schema)
			}
			if len(recs) != len(s.Batches) {
				t.Fatalf("got %d batches, arrow-go %d", len(s.Batches), len(recs))
			}
			var rows int64
			for i, r := range recs {
				rows += r.NumRows()
				if !array.RecordEqual(r, s.Batches[i]) {
					t.Fatalf("batch %d differs", i)
				}
			}
			if rows != s.Rows {
				t.Fatalf("Rows = %d, arrow-go %d", s.Rows, rows)
			}
		})
	}
}

// TestFileFormatRefused: an Arrow IPC file (not a stream) is refused with a
// message that says so, not with the nonsense length its magic reads as.
func TestFileFormatRefused(t *testing.T) {
	rec := sampleBatch(3)
	defer rec.Release()
	var buf bytes.Buffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(buf.Bytes(), nil, Limits{}); !errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), "Arrow IPC file") {
		t.Fatalf("Decode of a file: %v, want ErrInvalid saying it is an IPC file", err)
	}
	if _, err := DecodeSchema(buf.Bytes()); !errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), "stream format") {
		t.Fatalf("DecodeSchema of a file: %v", err)
	}
}
