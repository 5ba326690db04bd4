package arrowipc

import (
	"github.com/ducktail/ducktail/internal/sharedtest"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

func FuzzDecode(f *testing.F) {
	if _, ok := sharedtest.Find(); ok {
		for _, sub := range []string{"valid", "malformed"} {
			glob := "*"
			if sub == "valid" {
				glob = "*.stream"
			}
			for _, tf := range ipcFiles(f, sub, glob) {
				f.Add(tf.data)
			}
		}
	}
	f.Add(sampleStream(f, 2, 5))
	rec := sampleBatch(20)
	f.Add(writeStream(f, rec.Schema(), []arrow.RecordBatch{rec}, ipc.WithZstd()))
	f.Add(writeStream(f, rec.Schema(), []arrow.RecordBatch{rec}, ipc.WithLZ4()))
	rec.Release()
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err, alloc := decodeAlloc(body)
		if err != nil {
			if !isKindErr(err) {
				t.Fatalf("error of no kind: %v", err)
			}
			if strings.Contains(err.Error(), errPanicPrefix) {
				t.Fatalf("recovered panic: %v", err)
			}
		} else {
			s.Release()
		}
		if alloc > allocBound(len(body)) {
			t.Fatalf("%d bytes allocated for a %d-byte body", alloc, len(body))
		}
	})
}
