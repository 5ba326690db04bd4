package arrowipc

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// validator checks array data built from untrusted buffers before arrow-go
// makes typed arrays over it: every buffer is large enough for the length,
// every offset, view, type id, run end and dictionary index stays inside
// what it points into, null counts match the validity bitmaps and strings
// are UTF-8. It reads, never allocates.
type validator struct {
	d *decoder
	// dictsOptional skips index checks of unresolved nested dictionaries
	// (inside a dictionary batch; they are checked when a batch uses them).
	dictsOptional bool
}

// fail reports a problem of the array at name (a dotted path below the
// column, "" for the column itself).
func (v *validator) fail(name, format string, args ...any) error {
	if name == "" {
		return errorf(format, args...)
	}
	return errorf("child %s: "+format, append([]any{strings.TrimPrefix(name, ".")}, args...)...)
}

func bufBytes(data arrow.ArrayData, i int) []byte {
	bufs := data.Buffers()
	if i >= len(bufs) || bufs[i] == nil {
		return nil
	}
	return bufs[i].Bytes()
}

// mulFits returns a*b, or ok=false if it overflows int64 (a, b >= 0).
func mulFits(a, b int64) (int64, bool) {
	if a != 0 && b > math.MaxInt64/a {
		return 0, false
	}
	return a * b, true
}

func (v *validator) need(name, what string, have []byte, n int64) error {
	if int64(len(have)) < n {
		return v.fail(name, "%s buffer has %d bytes, need %d", what, len(have), n)
	}
	return nil
}

// validate checks data (named name for errors; "" is the column itself).
func (v *validator) validate(data arrow.ArrayData, name string, depth int) error {
	if depth > maxDepth {
		return v.fail(name, "arrays nest deeper than %d levels", maxDepth)
	}
	dt := data.DataType()
	if ext, ok := dt.(arrow.ExtensionType); ok {
		dt = ext.StorageType()
	}
	length, offset, nulls := int64(data.Len()), int64(data.Offset()), int64(data.NullN())
	if length < 0 || offset < 0 || nulls < 0 || nulls > length {
		return v.fail(name, "length %d, offset %d, null count %d are inconsistent", length, offset, nulls)
	}
	end := offset + length
	if hasValidity(dt.ID(), metaV5) {
		if bm := bufBytes(data, 0); bm != nil || nulls > 0 {
			if err := v.need(name, "validity", bm, bitutil.BytesForBits(end)); err != nil {
				return err
			}
			if got := length - int64(bitutil.CountSetBits(bm, int(offset), int(length))); got != nulls {
				return v.fail(name, "null count is %d but the validity bitmap has %d nulls", nulls, got)
			}
		}
	} else if bufBytes(data, 0) != nil {
		return v.fail(name, "type %s has no validity bitmap but one was given", dt)
	}
	children := data.Children()
	wantChildren := 0
	var err error
	switch t := dt.(type) {
	case *arrow.NullType:
	case *arrow.BooleanType:
		err = v.need(name, "values", bufBytes(data, 1), bitutil.BytesForBits(end))
	case *arrow.DictionaryType:
		err = v.dictionary(data, t, name, depth)
	case *arrow.BinaryType, *arrow.StringType:
		err = v.binary(data, name, 4, dt.ID() == arrow.STRING)
	case *arrow.LargeBinaryType, *arrow.LargeStringType:
		err = v.binary(data, name, 8, dt.ID() == arrow.LARGE_STRING)
	case *arrow.BinaryViewType, *arrow.StringViewType:
		err = v.views(data, name, dt.ID() == arrow.STRING_VIEW)
	case *arrow.ListType, *arrow.MapType:
		wantChildren = 1
		if len(children) == 1 {
			err = v.offsets(data, name, 4, int64(children[0].Len()))
		}
	case *arrow.LargeListType:
		wantChildren = 1
		if len(children) == 1 {
			err = v.offsets(data, name, 8, int64(children[0].Len()))
		}
	case *arrow.ListViewType:
		wantChildren = 1
		if len(children) == 1 {
			err = v.listViews(data, name, 4, int64(children[0].Len()))
		}
	case *arrow.LargeListViewType:
		wantChildren = 1
		if len(children) == 1 {
			err = v.listViews(data, name, 8, int64(children[0].Len()))
		}
	case *arrow.FixedSizeListType:
		wantChildren = 1
		if len(children) == 1 {
			n := int64(t.Len())
			need, ok := mulFits(end, n)
			if n < 0 || !ok || int64(children[0].Len()) < need {
				err = v.fail(name, "fixed-size list of %d x %d needs %d child values, has %d",
					end, n, need, children[0].Len())
			}
		}
	case *arrow.StructType:
		wantChildren = t.NumFields()
		for i, c := range children {
			if int64(c.Len()) < end {
				err = v.fail(name, "struct child %q has %d values, need %d", t.Field(i).Name, c.Len(), end)
				break
			}
		}
	case arrow.UnionType:
		wantChildren = len(t.Fields())
		if len(children) == wantChildren {
			err = v.union(data, t, name)
		}
	case *arrow.RunEndEncodedType:
		wantChildren = 2
		if len(children) == 2 {
			if err = v.validate(children[0], name+".run_ends", depth+1); err == nil {
				err = v.runEnds(data, name)
			}
		}
	case *arrow.FixedSizeBinaryType:
		if t.ByteWidth < 0 {
			err = v.fail(name, "fixed-size binary width %d is negative", t.ByteWidth)
			break
		}
		need, ok := mulFits(end, int64(t.ByteWidth))
		if !ok {
			err = v.fail(name, "length %d x width %d overflows", end, t.ByteWidth)
			break
		}
		err = v.need(name, "values", bufBytes(data, 1), need)
	case arrow.FixedWidthDataType:
		need, ok := mulFits(end, int64(t.BitWidth()/8))
		if !ok || t.BitWidth()%8 != 0 {
			err = v.fail(name, "length %d of a %d-bit type overflows", end, t.BitWidth())
			break
		}
		err = v.need(name, "values", bufBytes(data, 1), need)
	default:
		err = v.fail(name, "type %s is not supported", dt)
	}
	if err != nil {
		return err
	}
	if len(children) != wantChildren {
		return v.fail(name, "type %s has %d children, want %d", dt, len(children), wantChildren)
	}
	if dt.ID() == arrow.RUN_END_ENCODED {
		return v.validate(children[1], name+".values", depth+1)
	}
	for i, c := range children {
		cn := name + "." + childName(dt, i)
		if err := v.validate(c, cn, depth+1); err != nil {
			return err
		}
	}
	if m, ok := dt.(*arrow.MapType); ok && len(children) == 1 {
		if keys := children[0].Children(); len(keys) > 0 && keys[0].NullN() != 0 {
			return v.fail(name, "map %s has null keys", m)
		}
	}
	return nil
}

func childName(dt arrow.DataType, i int) string {
	if n, ok := dt.(arrow.NestedType); ok {
		if fs := n.Fields(); i < len(fs) {
			return fs[i].Name
		}
	}
	return "child"
}

func isNull(data arrow.ArrayData, i int64) bool {
	bm := bufBytes(data, 0)
	return data.NullN() > 0 && bm != nil && !bitutil.BitIsSet(bm, int(i))
}

func readInt(b []byte, width int, i int64) int64 {
	switch width {
	case 1:
		return int64(int8(b[i]))
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b[2*i:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
	}
	return int64(binary.LittleEndian.Uint64(b[8*i:]))
}

// offsets checks an offsets buffer (buffer 1) of width 4 or 8 for
// offset..offset+length: present, non-negative, non-decreasing, ending
// within limit.
func (v *validator) offsets(data arrow.ArrayData, name string, width int, limit int64) error {
	length, offset := int64(data.Len()), int64(data.Offset())
	if length == 0 {
		return nil
	}
	offs := bufBytes(data, 1)
	if err := v.need(name, "offsets", offs, (offset+length+1)*int64(width)); err != nil {
		return err
	}
	prev := readInt(offs, width, offset)
	if prev < 0 {
		return v.fail(name, "first offset %d is negative", prev)
	}
	for i := offset + 1; i <= offset+length; i++ {
		o := readInt(offs, width, i)
		if o < prev {
			return v.fail(name, "offset %d at %d is below the previous offset %d", o, i, prev)
		}
		prev = o
	}
	if prev > limit {
		return v.fail(name, "last offset %d is past the end of the %d values", prev, limit)
	}
	return nil
}

func (v *validator) binary(data arrow.ArrayData, name string, width int, utf bool) error {
	vals := bufBytes(data, 2)
	if err := v.offsets(data, name, width, int64(len(vals))); err != nil {
		return err
	}
	if !utf || data.Len() == 0 {
		return nil
	}
	offs := bufBytes(data, 1)
	offset, end := int64(data.Offset()), int64(data.Offset()+data.Len())
	if data.NullN() == 0 {
		lo, hi := readInt(offs, width, offset), readInt(offs, width, end)
		if utf8.Valid(vals[lo:hi]) {
			// Valid as a whole: every value is valid unless an offset
			// splits a multi-byte character.
			for i := offset + 1; i < end; i++ {
				if o := readInt(offs, width, i); o < hi && !utf8.RuneStart(vals[o]) {
					return v.fail(name, "value %d is not valid UTF-8", i)
				}
			}
			return nil
		}
	}
	for i := offset; i < end; i++ {
		if isNull(data, i) {
			continue
		}
		if !utf8.Valid(vals[readInt(offs, width, i):readInt(offs, width, i+1)]) {
			return v.fail(name, "value %d is not valid UTF-8", i)
		}
	}
	return nil
}

func (v *validator) views(data arrow.ArrayData, name string, utf bool) error {
	offset, end := int64(data.Offset()), int64(data.Offset()+data.Len())
	views := bufBytes(data, 1)
	if err := v.need(name, "views", views, end*16); err != nil {
		return err
	}
	nData := int64(len(data.Buffers()) - 2)
	for i := offset; i < end; i++ {
		if isNull(data, i) {
			continue
		}
		view := views[16*i : 16*i+16]
		size := int64(int32(binary.LittleEndian.Uint32(view)))
		var val []byte
		switch {
		case size < 0:
			return v.fail(name, "view %d has negative size %d", i, size)
		case size <= 12:
			val = view[4 : 4+size]
		default:
			idx := int64(int32(binary.LittleEndian.Uint32(view[8:])))
			off := int64(int32(binary.LittleEndian.Uint32(view[12:])))
			if idx < 0 || idx >= nData {
				return v.fail(name, "view %d points to data buffer %d of %d", i, idx, nData)
			}
			buf := bufBytes(data, int(2+idx))
			if off < 0 || off+size > int64(len(buf)) {
				return v.fail(name, "view %d (offset %d, size %d) is outside its %d-byte data buffer", i, off, size, len(buf))
			}
			val = buf[off : off+size]
			if !bytes.Equal(val[:4], view[4:8]) {
				return v.fail(name, "view %d prefix does not match its data", i)
			}
		}
		if utf && !utf8.Valid(val) {
			return v.fail(name, "value %d is not valid UTF-8", i)
		}
	}
	return nil
}

func (v *validator) listViews(data arrow.ArrayData, name string, width int, limit int64) error {
	offset, end := int64(data.Offset()), int64(data.Offset()+data.Len())
	offs, sizes := bufBytes(data, 1), bufBytes(data, 2)
	if err := v.need(name, "offsets", offs, end*int64(width)); err != nil {
		return err
	}
	if err := v.need(name, "sizes", sizes, end*int64(width)); err != nil {
		return err
	}
	for i := offset; i < end; i++ {
		if isNull(data, i) {
			continue
		}
		o, s := readInt(offs, width, i), readInt(sizes, width, i)
		if o < 0 || s < 0 || o > limit || s > limit-o {
			return v.fail(name, "list view %d (offset %d, size %d) is outside the %d child values", i, o, s, limit)
		}
	}
	return nil
}

func (v *validator) union(data arrow.ArrayData, t arrow.UnionType, name string) error {
	offset, end := int64(data.Offset()), int64(data.Offset()+data.Len())
	ids := bufBytes(data, 1)
	if err := v.need(name, "type ids", ids, end); err != nil {
		return err
	}
	children := data.Children()
	childIDs := t.ChildIDs()
	dense := t.Mode() == arrow.DenseMode
	var offs []byte
	if dense {
		offs = bufBytes(data, 2)
		if err := v.need(name, "union offsets", offs, end*4); err != nil {
			return err
		}
	} else {
		for i, c := range children {
			if int64(c.Len()) < end {
				return v.fail(name, "sparse union child %d has %d values, need %d", i, c.Len(), end)
			}
		}
	}
	for i := offset; i < end; i++ {
		code := int8(ids[i])
		if code < 0 || int(code) >= len(childIDs) || childIDs[code] < 0 || childIDs[code] >= len(children) {
			return v.fail(name, "union value %d has unknown type id %d", i, code)
		}
		if dense {
			o := readInt(offs, 4, i)
			if o < 0 || o >= int64(children[childIDs[code]].Len()) {
				return v.fail(name, "union value %d offset %d is outside child %d", i, o, childIDs[code])
			}
		}
	}
	return nil
}

// runEnds checks the run ends child (already validated as an array).
func (v *validator) runEnds(data arrow.ArrayData, name string) error {
	re := data.Children()[0]
	values := data.Children()[1]
	n := int64(re.Len())
	if re.NullN() != 0 {
		return v.fail(name, "run ends contain nulls")
	}
	if int64(values.Len()) < n {
		return v.fail(name, "%d run ends but only %d values", n, values.Len())
	}
	end := int64(data.Offset() + data.Len())
	if end == 0 {
		return nil
	}
	if n == 0 {
		return v.fail(name, "no run ends for %d values", end)
	}
	var width int
	switch re.DataType().ID() {
	case arrow.INT16:
		width = 2
	case arrow.INT32:
		width = 4
	case arrow.INT64:
		width = 8
	default:
		return v.fail(name, "run ends of type %s", re.DataType())
	}
	b := bufBytes(re, 1)
	off := int64(re.Offset())
	prev := int64(0)
	for i := off; i < off+n; i++ {
		e := readInt(b, width, i)
		if e <= prev {
			return v.fail(name, "run end %d at %d is not above the previous %d", e, i-off, prev)
		}
		prev = e
	}
	if prev < end {
		return v.fail(name, "last run end %d is below the array end %d", prev, end)
	}
	return nil
}

func (v *validator) dictionary(data arrow.ArrayData, t *arrow.DictionaryType, name string, depth int) error {
	iw, ok := t.IndexType.(arrow.FixedWidthDataType)
	if !ok || !arrow.IsInteger(t.IndexType.ID()) {
		return v.fail(name, "dictionary index type %s is not an integer", t.IndexType)
	}
	width := iw.BitWidth() / 8
	offset, end := int64(data.Offset()), int64(data.Offset()+data.Len())
	idx := bufBytes(data, 1)
	if err := v.need(name, "indices", idx, end*int64(width)); err != nil {
		return err
	}
	dict := dictOf(data)
	if dict == nil {
		if v.dictsOptional {
			return nil
		}
		return v.fail(name, "no dictionary")
	}
	n := int64(dict.Len())
	unsigned := !arrow.IsSignedInteger(t.IndexType.ID())
	for i := offset; i < end; i++ {
		if isNull(data, i) {
			continue
		}
		k := readInt(idx, width, i)
		if unsigned {
			switch width {
			case 1:
				k = int64(uint8(k))
			case 2:
				k = int64(uint16(k))
			case 4:
				k = int64(uint32(k))
			}
		}
		if k < 0 || k >= n {
			return v.fail(name, "dictionary index %d at %d is outside the %d-entry dictionary", k, i, n)
		}
	}
	if _, done := v.d.validDicts[dict]; done {
		return nil
	}
	if err := v.validate(dict, name+".dictionary", depth+1); err != nil {
		return err
	}
	if !hasDictionary(t.ValueType) {
		v.d.validDicts[dict] = struct{}{}
	}
	return nil
}

// hasDictionary reports whether dt contains a dictionary type.
func hasDictionary(dt arrow.DataType) bool {
	if dt.ID() == arrow.DICTIONARY {
		return true
	}
	for _, c := range childTypes(dt) {
		if hasDictionary(c) {
			return true
		}
	}
	return false
}

// dictOf returns data's dictionary, or nil (arrow-go returns a typed nil).
func dictOf(data arrow.ArrayData) arrow.ArrayData {
	d := data.Dictionary()
	if ad, ok := d.(*array.Data); d == nil || (ok && ad == nil) {
		return nil
	}
	return d
}
