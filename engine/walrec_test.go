package engine

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ducktail/ducktail/base"
)

func TestWALRecordRoundTrip(t *testing.T) {
	r := walRecord{kind: recArrow, name: "demo/events", firstID: 1 << 40, rows: 3791, ts: 1_795_000_000_000,
		tenant: 7, event: ArrowEvent, body: []byte("an arrow body")}
	rec := append(r.appendHeader(nil), r.body...)
	var got walRecord
	if err := got.decode(rec); err != nil {
		t.Fatal(err)
	}
	if got.name != r.name || got.firstID != r.firstID || got.rows != r.rows || got.ts != r.ts ||
		got.tenant != r.tenant || got.event != r.event || !bytes.Equal(got.body, r.body) {
		t.Fatalf("decoded %+v, want %+v", got, r)
	}
	// Every truncation of the header is refused as corrupt, never a panic.
	hdr := r.appendHeader(nil)
	for i := 0; i < len(hdr); i++ {
		var x walRecord
		if err := x.decode(hdr[:i]); !errors.Is(err, base.ErrCorrupt) {
			t.Fatalf("header cut at %d: %v", i, err)
		}
	}
}
