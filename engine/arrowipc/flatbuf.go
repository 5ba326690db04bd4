package arrowipc

import (
	"encoding/binary"
	"fmt"
)

// This file holds minimal, bounds-checked flatbuffer accessors. Unlike the
// generated code (and github.com/google/flatbuffers/go), every read is
// checked against the buffer, so a hostile offset is an error, not a panic,
// and a vector's declared length is checked against the bytes present
// before anyone allocates for it.

// fbTable is a verified flatbuffer table: its vtable and inline data lie
// inside b.
type fbTable struct {
	b     []byte
	pos   int // start of the table (its soffset to the vtable)
	vt    int // start of the vtable
	vtLen int // vtable size in bytes
	tLen  int // inline table size in bytes
}

func u16(b []byte, p int) uint16 { return binary.LittleEndian.Uint16(b[p:]) }
func u32(b []byte, p int) uint32 { return binary.LittleEndian.Uint32(b[p:]) }

// fbRoot opens the root table of a flatbuffer.
func fbRoot(b []byte) (fbTable, error) {
	if len(b) < 4 {
		return fbTable{}, fmt.Errorf("flatbuffer of %d bytes has no root", len(b))
	}
	return fbOpen(b, uint64(u32(b, 0)))
}

// fbOpen opens and verifies the table at pos.
func fbOpen(b []byte, pos uint64) (fbTable, error) {
	n := uint64(len(b))
	if pos+4 > n {
		return fbTable{}, fmt.Errorf("table at %d is outside the %d-byte metadata", pos, n)
	}
	soff := int64(int32(u32(b, int(pos))))
	vt := int64(pos) - soff
	if vt < 0 || uint64(vt)+4 > n {
		return fbTable{}, fmt.Errorf("vtable of table at %d is outside the metadata", pos)
	}
	vtLen := int(u16(b, int(vt)))
	tLen := int(u16(b, int(vt)+2))
	if vtLen < 4 || vtLen%2 != 0 || uint64(vt)+uint64(vtLen) > n {
		return fbTable{}, fmt.Errorf("vtable of table at %d has bad size %d", pos, vtLen)
	}
	if tLen < 4 || pos+uint64(tLen) > n {
		return fbTable{}, fmt.Errorf("table at %d has bad size %d", pos, tLen)
	}
	return fbTable{b: b, pos: int(pos), vt: int(vt), vtLen: vtLen, tLen: tLen}, nil
}

// field returns the absolute position of slot's value of the given size, or
// ok=false if the slot is absent.
func (t fbTable) field(slot, size int) (p int, ok bool, err error) {
	vo := 4 + 2*slot
	if vo+2 > t.vtLen {
		return 0, false, nil
	}
	o := int(u16(t.b, t.vt+vo))
	if o == 0 {
		return 0, false, nil
	}
	if o < 4 || o+size > t.tLen {
		return 0, false, fmt.Errorf("field %d of table at %d lies outside the table", slot, t.pos)
	}
	return t.pos + o, true, nil
}

func (t fbTable) i64(slot int, def int64) (int64, error) {
	p, ok, err := t.field(slot, 8)
	if !ok || err != nil {
		return def, err
	}
	return int64(binary.LittleEndian.Uint64(t.b[p:])), nil
}

func (t fbTable) i32(slot int, def int32) (int32, error) {
	p, ok, err := t.field(slot, 4)
	if !ok || err != nil {
		return def, err
	}
	return int32(u32(t.b, p)), nil
}

func (t fbTable) i16(slot int, def int16) (int16, error) {
	p, ok, err := t.field(slot, 2)
	if !ok || err != nil {
		return def, err
	}
	return int16(u16(t.b, p)), nil
}

func (t fbTable) u8(slot int, def uint8) (uint8, error) {
	p, ok, err := t.field(slot, 1)
	if !ok || err != nil {
		return def, err
	}
	return t.b[p], nil
}

// ref follows the uoffset in slot and returns the absolute target.
func (t fbTable) ref(slot int) (uint64, bool, error) {
	p, ok, err := t.field(slot, 4)
	if !ok || err != nil {
		return 0, false, err
	}
	target := uint64(p) + uint64(u32(t.b, p))
	if target >= uint64(len(t.b)) {
		return 0, false, fmt.Errorf("field %d of table at %d points outside the metadata", slot, t.pos)
	}
	return target, true, nil
}

// table opens the sub-table in slot.
func (t fbTable) table(slot int) (fbTable, bool, error) {
	target, ok, err := t.ref(slot)
	if !ok || err != nil {
		return fbTable{}, false, err
	}
	sub, err := fbOpen(t.b, target)
	return sub, err == nil, err
}

// vector returns the start and element count of the vector in slot, after
// checking that count*elemSize bytes are present.
func (t fbTable) vector(slot, elemSize int) (start, n int, err error) {
	target, ok, err := t.ref(slot)
	if !ok || err != nil {
		return 0, 0, err
	}
	if target+4 > uint64(len(t.b)) {
		return 0, 0, fmt.Errorf("vector in field %d of table at %d is outside the metadata", slot, t.pos)
	}
	count := uint64(u32(t.b, int(target)))
	if count*uint64(elemSize) > uint64(len(t.b))-target-4 {
		return 0, 0, fmt.Errorf("vector in field %d of table at %d declares %d elements, more than the metadata holds",
			slot, t.pos, count)
	}
	return int(target) + 4, int(count), nil
}

// str returns the bytes of the string in slot.
func (t fbTable) str(slot int) ([]byte, error) {
	start, n, err := t.vector(slot, 1)
	if err != nil || n == 0 {
		return nil, err
	}
	return t.b[start : start+n], nil
}

// tableAt opens element i of a vector of tables starting at start.
func (t fbTable) tableAt(start, i int) (fbTable, error) {
	e := start + 4*i
	return fbOpen(t.b, uint64(e)+uint64(u32(t.b, e)))
}

// tables opens every element of the vector of tables in slot.
func (t fbTable) eachTable(slot int, f func(i int, sub fbTable) error) error {
	start, n, err := t.vector(slot, 4)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		sub, err := t.tableAt(start, i)
		if err != nil {
			return err
		}
		if err := f(i, sub); err != nil {
			return err
		}
	}
	return nil
}

// checkScalars verifies that the scalar slots of t with the given sizes
// (sizes[i] is the byte size of slot i, 0 for a slot to skip) lie inside t.
func (t fbTable) checkScalars(sizes ...int) error {
	for slot, size := range sizes {
		if size == 0 {
			continue
		}
		if _, _, err := t.field(slot, size); err != nil {
			return err
		}
	}
	return nil
}

// checkKeyValues verifies a custom_metadata vector of KeyValue tables.
func (t fbTable) checkKeyValues(slot int) error {
	return t.eachTable(slot, func(_ int, kv fbTable) error {
		if _, err := kv.str(0); err != nil {
			return err
		}
		_, err := kv.str(1)
		return err
	})
}
