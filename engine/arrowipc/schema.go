package arrowipc

import (
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// maxDepth bounds the nesting of fields (arrow-go's own loader limit is 64).
const maxDepth = 64

// Type union tags of Schema.fbs that this package verifies specially.
const (
	fbTypeInt             = 2
	fbTypeFloatingPoint   = 3
	fbTypeDecimal         = 7
	fbTypeDate            = 8
	fbTypeTime            = 9
	fbTypeTimestamp       = 10
	fbTypeInterval        = 11
	fbTypeUnion           = 14
	fbTypeFixedSizeBinary = 15
	fbTypeFixedSizeList   = 16
	fbTypeMap             = 17
	fbTypeDuration        = 18
	fbTypeLast            = 26 // LargeListView
)

// schemaInfo is a decoded schema plus what loading batches needs: the
// dictionary id of every dictionary-encoded field, by field path.
type schemaInfo struct {
	schema *arrow.Schema
	// dictIDs maps a field path (pathKey) to its dictionary id.
	dictIDs map[string]int64
	// dictTypes maps a dictionary id to its value type and the path of the
	// first field that uses it.
	dictTypes map[int64]dictType
}

type dictType struct {
	value arrow.DataType
	path  []int32
}

// pathKey encodes a field path as a map key.
func pathKey(path []int32) string {
	b := make([]byte, 0, 4*len(path))
	for _, p := range path {
		b = append(b, byte(p), byte(p>>8), byte(p>>16), byte(p>>24))
	}
	return string(b)
}

// schemaVerifier walks a Schema table, checking every table, string and
// vector arrow-go will read, and collects dictionary ids by field path.
type schemaVerifier struct {
	fieldsLeft int
	dictIDs    map[string]int64
}

// parseSchema verifies the schema message m and decodes it with arrow-go.
func parseSchema(m message, meta []byte) (*schemaInfo, error) {
	sch := m.header
	endianness, err := sch.i16(0, 0)
	if err != nil {
		return nil, err
	}
	if endianness != 0 {
		return nil, errorf("big-endian streams are not supported")
	}
	v := schemaVerifier{
		// An encoded field takes at least 8 bytes (its vector slot and its
		// table's vtable offset), so this only bounds hostile sharing of one
		// field table by many vectors.
		fieldsLeft: len(meta)/8 + 16,
		dictIDs:    map[string]int64{},
	}
	if err := v.fields(sch, 1, nil, 0); err != nil {
		return nil, err
	}
	if err := sch.checkKeyValues(2); err != nil {
		return nil, err
	}
	if _, _, err := sch.vector(3, 8); err != nil { // features
		return nil, err
	}
	schema, err := arrowSchema(meta)
	if err != nil {
		return nil, err
	}
	info := &schemaInfo{schema: schema, dictIDs: v.dictIDs, dictTypes: map[int64]dictType{}}
	for i, f := range schema.Fields() {
		if err := info.collect(f.Type, []int32{int32(i)}); err != nil {
			return nil, err
		}
	}
	return info, nil
}

func (v *schemaVerifier) fields(t fbTable, slot int, path []int32, depth int) error {
	if depth > maxDepth {
		return errorf("schema nests fields deeper than %d levels", maxDepth)
	}
	return t.eachTable(slot, func(i int, f fbTable) error {
		v.fieldsLeft--
		if v.fieldsLeft < 0 {
			return errorf("schema declares more fields than its metadata can hold")
		}
		p := append(path[:len(path):len(path)], int32(i))
		return v.field(f, p, depth)
	})
}

func (v *schemaVerifier) field(f fbTable, path []int32, depth int) error {
	if _, err := f.str(0); err != nil { // name
		return err
	}
	if err := f.checkScalars(0, 1, 1); err != nil { // nullable, type_type
		return err
	}
	typeType, err := f.u8(2, 0)
	if err != nil {
		return err
	}
	if typeType == 0 || typeType > fbTypeLast {
		return errorf("field has unknown type tag %d", typeType)
	}
	typ, ok, err := f.table(3)
	if err != nil {
		return err
	}
	if !ok {
		return errorf("field has no type")
	}
	if err := verifyType(typeType, typ); err != nil {
		return err
	}
	dict, ok, err := f.table(4)
	if err != nil {
		return err
	}
	if ok {
		if err := dict.checkScalars(8, 0, 1, 2); err != nil {
			return err
		}
		id, err := dict.i64(0, 0)
		if err != nil {
			return err
		}
		idx, ok, err := dict.table(1)
		if err != nil {
			return err
		}
		if ok {
			if err := idx.checkScalars(4, 1); err != nil {
				return err
			}
		}
		v.dictIDs[pathKey(path)] = id
	}
	if err := v.fields(f, 5, path, depth+1); err != nil {
		return err
	}
	return f.checkKeyValues(6)
}

// verifyType checks the scalar, string and vector fields arrow-go reads
// from a type table.
func verifyType(tag uint8, t fbTable) error {
	switch tag {
	case fbTypeInt:
		return t.checkScalars(4, 1)
	case fbTypeFloatingPoint, fbTypeDate, fbTypeInterval, fbTypeDuration:
		return t.checkScalars(2)
	case fbTypeDecimal:
		return t.checkScalars(4, 4, 4)
	case fbTypeTime:
		return t.checkScalars(2, 4)
	case fbTypeTimestamp:
		if err := t.checkScalars(2); err != nil {
			return err
		}
		_, err := t.str(1)
		return err
	case fbTypeUnion:
		if err := t.checkScalars(2); err != nil {
			return err
		}
		_, n, err := t.vector(1, 4)
		if err == nil && n > 128 {
			err = errorf("union declares %d type ids, at most 128 allowed", n)
		}
		return err
	case fbTypeFixedSizeBinary, fbTypeFixedSizeList:
		return t.checkScalars(4)
	case fbTypeMap:
		return t.checkScalars(1)
	}
	return nil
}

// collect records the value type of every dictionary-encoded field.
func (s *schemaInfo) collect(dt arrow.DataType, path []int32) error {
	if d, ok := dt.(*arrow.DictionaryType); ok {
		id, ok := s.dictIDs[pathKey(path)]
		if !ok {
			return errorf("dictionary field at %v has no dictionary id", path)
		}
		if prev, dup := s.dictTypes[id]; dup {
			if !arrow.TypeEqual(prev.value, d.ValueType) {
				return errorf("dictionary id %d is used with two value types", id)
			}
		} else {
			s.dictTypes[id] = dictType{value: d.ValueType, path: path}
		}
	}
	for j, c := range childTypes(dt) {
		p := append(path[:len(path):len(path)], int32(j))
		if err := s.collect(c, p); err != nil {
			return err
		}
	}
	return nil
}

// childTypes lists the child types of dt in IPC field order (a dictionary's
// children are its value type's).
func childTypes(dt arrow.DataType) []arrow.DataType {
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		return childTypes(t.ValueType)
	case arrow.ExtensionType:
		return childTypes(t.StorageType())
	case *arrow.MapType:
		return []arrow.DataType{t.Elem()}
	case arrow.ListLikeType:
		return []arrow.DataType{t.Elem()}
	case *arrow.RunEndEncodedType:
		return []arrow.DataType{t.RunEnds(), t.Encoded()}
	case arrow.NestedType:
		fs := t.Fields()
		out := make([]arrow.DataType, len(fs))
		for i, f := range fs {
			out[i] = f.Type
		}
		return out
	}
	return nil
}

// arrowSchema decodes verified schema metadata with arrow-go.
func arrowSchema(meta []byte) (*arrow.Schema, error) {
	mr := &oneMessage{msg: ipc.NewMessage(memory.NewBufferBytes(meta), memory.NewBufferBytes(nil))}
	r, err := ipc.NewReaderFromMessageReader(mr, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	if s := r.Schema(); s != nil {
		return s, nil
	}
	return nil, errors.New("no schema")
}

// oneMessage is an ipc.MessageReader that yields one message.
type oneMessage struct{ msg *ipc.Message }

func (o *oneMessage) Message() (*ipc.Message, error) {
	if o.msg == nil {
		return nil, io.EOF
	}
	m := o.msg
	o.msg = nil
	return m, nil
}
func (o *oneMessage) Retain()  {}
func (o *oneMessage) Release() {}
