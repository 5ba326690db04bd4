package server

import (
	"errors"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
)

func FuzzParseBulk(f *testing.F) {
	f.Add("multipart/mixed; boundary=b", []byte("--b\n\nHello\n--b\n\nHi\n--b--\n"))
	f.Add("multipart/mixed; boundary=uuid-boundary", []byte("A preamble.\n--uuid-boundary\n\nHello, world!\n--uuid-boundary--\n"))
	f.Add("multipart/related; boundary=x", []byte("--x\r\nContent-Type: application/json\r\nEvent-Type: t\r\nTimestamp: 5\r\n\r\n{}\r\n--x--\r\n"))
	f.Add("multipart/mixed", []byte("--b--"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		evs, err := parseBulk(ct, body, engine.Event{Index: -1})
		if err != nil {
			if !errors.Is(err, base.ErrInvalid) && !errors.Is(err, base.ErrTooLarge) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		if len(evs) == 0 || len(evs) > maxBulkEvents {
			t.Fatalf("%d events accepted", len(evs))
		}
		for _, ev := range evs {
			if ev.Type == "" || len(ev.Data) > engine.MaxEventBytes || ev.ContentType == "" {
				t.Fatalf("accepted a bad event %+v", ev)
			}
		}
	})
}
