package segment

import "encoding/binary"

// valueCache sits in front of dictBuilder's map for plain text rows: a
// table from a value's length and outer bytes to its code, each value in
// one of two slots. Event names and similar columns have a few distinct
// values spread over the rows, so nearly every row hits, for a multiply
// and a byte compare instead of a string hash and a map probe (the map
// lookup was most of the dictionary's cost). Values whose slots are both
// taken just go to the map. Entries point into the chunks being encoded:
// reset before and after each row group.
type valueCache struct {
	slots [cacheSlots]cacheSlot
}

const cacheSlots = 512

type cacheSlot struct {
	v  []byte
	k  int32
	ok bool
}

// slotsOf returns v's two slots, from a hash of its length and its first
// and last (up to) 8 bytes.
func slotsOf(v []byte) (uint16, uint16) {
	var x uint64
	if n := len(v); n >= 8 {
		x = binary.LittleEndian.Uint64(v) ^ binary.LittleEndian.Uint64(v[n-8:])<<1
	} else {
		for i, c := range v {
			x |= uint64(c) << (8 * i)
		}
	}
	x ^= uint64(len(v)) << 59
	h := x * 0x9E3779B97F4A7C15
	return uint16(h>>55) % cacheSlots, uint16(h>>46) % cacheSlots
}

// get returns v's code if v is cached in slot a or b.
func (c *valueCache) get(a, b uint16, v []byte) (int32, bool) {
	if e := &c.slots[a]; e.ok && string(e.v) == string(v) {
		return e.k, true
	}
	if e := &c.slots[b]; e.ok && string(e.v) == string(v) {
		return e.k, true
	}
	return 0, false
}

// put caches v's code in slot a, else b, if one is free.
func (c *valueCache) put(a, b uint16, v []byte, k int32) {
	switch {
	case !c.slots[a].ok:
		c.slots[a] = cacheSlot{v: v, k: k, ok: true}
	case !c.slots[b].ok:
		c.slots[b] = cacheSlot{v: v, k: k, ok: true}
	}
}

func (c *valueCache) reset() { clear(c.slots[:]) }
