package segment

import "encoding/binary"

// valueCache sits in front of dictBuilder's map for plain text rows: a
// direct-mapped table from a value's length and outer bytes to its code.
// Event names and similar columns have a few distinct values spread over
// the rows, so nearly every row hits, for a multiply and a byte compare
// instead of a string hash and a map probe (the map lookup was most of
// the dictionary's cost). Values that collide in a slot just go to the
// map. Entries point into the chunks being encoded: clear before and
// after each row group.
type valueCache struct {
	slots [256]cacheSlot
}

type cacheSlot struct {
	v  []byte
	k  int32
	ok bool
}

// slotOf returns v's slot: a hash of its length and its first and last
// (up to) 8 bytes.
func slotOf(v []byte) uint8 {
	var x uint64
	if n := len(v); n >= 8 {
		x = binary.LittleEndian.Uint64(v) ^ binary.LittleEndian.Uint64(v[n-8:])<<1
	} else {
		for i, c := range v {
			x |= uint64(c) << (8 * i)
		}
	}
	x ^= uint64(len(v)) << 59
	return uint8((x * 0x9E3779B97F4A7C15) >> 56)
}

// get returns v's code if v is cached in slot s.
func (c *valueCache) get(s uint8, v []byte) (int32, bool) {
	e := &c.slots[s]
	if e.ok && string(e.v) == string(v) {
		return e.k, true
	}
	return 0, false
}

func (c *valueCache) put(s uint8, v []byte, k int32) {
	c.slots[s] = cacheSlot{v: v, k: k, ok: true}
}

func (c *valueCache) reset() { clear(c.slots[:]) }
