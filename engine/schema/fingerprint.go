package schema

import (
	"hash/maphash"

	"github.com/apache/arrow-go/v18/arrow"
)

// fingerprint hashes everything about s that a match decision depends on:
// field names, nullability and types with all their parameters, but not
// metadata. It allocates nothing for the types ParseType knows, unlike
// arrow.Schema.Fingerprint, which builds strings. The seed is per Matcher,
// so colliding shapes cannot be chosen by a client; a collision between two
// honest shapes has probability about n²/2⁶⁵ for n cached shapes.
func fingerprint(seed maphash.Seed, s *arrow.Schema) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	n := s.NumFields()
	writeUint(&h, uint64(n))
	for i := 0; i < n; i++ {
		hashField(&h, s.Field(i))
	}
	return h.Sum64()
}

func writeUint(h *maphash.Hash, v uint64) {
	var b [8]byte
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	h.Write(b[:])
}

func hashField(h *maphash.Hash, f arrow.Field) {
	writeUint(h, uint64(len(f.Name)))
	h.WriteString(f.Name)
	if f.Nullable {
		h.WriteByte(1)
	} else {
		h.WriteByte(0)
	}
	hashType(h, f.Type)
}

func hashType(h *maphash.Hash, t arrow.DataType) {
	if t == nil {
		h.WriteByte(0xff)
		return
	}
	writeUint(h, uint64(t.ID()))
	switch t := t.(type) {
	case arrow.ExtensionType:
		h.WriteString(t.ExtensionName())
		h.WriteString(t.Serialize())
		hashType(h, t.StorageType())
		return
	case *arrow.TimestampType:
		writeUint(h, uint64(t.Unit))
		writeUint(h, uint64(len(t.TimeZone)))
		h.WriteString(t.TimeZone)
	case *arrow.Time32Type:
		writeUint(h, uint64(t.Unit))
	case *arrow.Time64Type:
		writeUint(h, uint64(t.Unit))
	case *arrow.DurationType:
		writeUint(h, uint64(t.Unit))
	case arrow.DecimalType:
		writeUint(h, uint64(uint32(t.GetPrecision()))<<32|uint64(uint32(t.GetScale())))
	case *arrow.FixedSizeBinaryType:
		writeUint(h, uint64(t.ByteWidth))
	case *arrow.FixedSizeListType:
		writeUint(h, uint64(t.Len()))
	case *arrow.MapType:
		if t.KeysSorted {
			h.WriteByte(1)
		} else {
			h.WriteByte(0)
		}
	case arrow.UnionType:
		for _, c := range t.TypeCodes() {
			h.WriteByte(byte(c))
		}
	case *arrow.DictionaryType:
		if t.Ordered {
			h.WriteByte(1)
		} else {
			h.WriteByte(0)
		}
		hashType(h, t.IndexType)
		hashType(h, t.ValueType)
		return
	case *arrow.RunEndEncodedType:
		if t.ValueNullable {
			h.WriteByte(1)
		} else {
			h.WriteByte(0)
		}
	}
	if nt, ok := t.(arrow.NestedType); ok {
		n := nt.NumFields()
		writeUint(h, uint64(n))
		switch t := t.(type) {
		case *arrow.StructType:
			for i := 0; i < n; i++ {
				hashField(h, t.Field(i))
			}
		case arrow.ListLikeType:
			hashField(h, t.ElemField())
		default:
			for _, f := range nt.Fields() {
				hashField(h, f)
			}
		}
	}
}
