package engine

import (
	"encoding/binary"

	"github.com/ducktail/ducktail/base"
)

// WAL record layout (all integers little-endian or uvarint):
//
//	kind       1 byte: recArrow
//	name       uvarint length, then "account/name"
//	first_id   8 bytes
//	rows       8 bytes
//	ts         8 bytes, ms
//	tenant     4 bytes, 0 = none
//	event      uvarint length, then bytes
//	body       the rest: the request body as received (an Arrow IPC stream)
//
// The body is logged as received rather than re-encoded: it was validated
// before it was logged, and replay decodes and conforms it again with the
// same code as the live path.
const recArrow byte = 1

type walRecord struct {
	kind    byte
	name    string
	firstID int64
	rows    int64
	ts      int64
	tenant  uint32
	event   string
	body    []byte
}

// appendHeader appends everything but the body; the record is the header
// followed by r.body.
func (r *walRecord) appendHeader(dst []byte) []byte {
	dst = append(dst, r.kind)
	dst = binary.AppendUvarint(dst, uint64(len(r.name)))
	dst = append(dst, r.name...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.firstID))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.rows))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.ts))
	dst = binary.LittleEndian.AppendUint32(dst, r.tenant)
	dst = binary.AppendUvarint(dst, uint64(len(r.event)))
	return append(dst, r.event...)
}

func (r *walRecord) decode(b []byte) error {
	bad := func(what string) error { return base.Errorf(base.ErrCorrupt, "engine: wal record: bad %s", what) }
	if len(b) < 1 {
		return bad("kind")
	}
	r.kind, b = b[0], b[1:]
	if r.kind != recArrow && r.kind != recEvent && r.kind != recTypedEvent {
		return bad("kind")
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return bad("name")
	}
	r.name, b = string(b[k:k+int(n)]), b[k+int(n):]
	if len(b) < 28 {
		return bad("header")
	}
	r.firstID = int64(binary.LittleEndian.Uint64(b))
	r.rows = int64(binary.LittleEndian.Uint64(b[8:]))
	r.ts = int64(binary.LittleEndian.Uint64(b[16:]))
	r.tenant = binary.LittleEndian.Uint32(b[24:])
	b = b[28:]
	n, k = binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return bad("event")
	}
	r.event, b = string(b[k:k+int(n)]), b[k+int(n):]
	if r.firstID < 0 || r.rows < 0 {
		return bad("id range")
	}
	r.body = b
	return nil
}
