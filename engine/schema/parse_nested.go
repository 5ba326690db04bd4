package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// The parsers of nested and dictionary-like types: list, map, struct,
// union, dictionary, run_end_encoded.

func (p *parser) list(w string) (arrow.DataType, error) {
	if err := p.expect('<'); err != nil {
		return nil, err
	}
	elem, nullable, err := p.child()
	if err != nil {
		return nil, err
	}
	if err := p.expect('>'); err != nil {
		return nil, err
	}
	f := arrow.Field{Name: "item", Type: elem, Nullable: nullable}
	switch w {
	case "large_list":
		return arrow.LargeListOfField(f), nil
	case "list_view":
		return arrow.ListViewOfField(f), nil
	case "large_list_view":
		return arrow.LargeListViewOfField(f), nil
	case "fixed_size_list":
		if err := p.expect('['); err != nil {
			return nil, err
		}
		n, err := p.int("list size", 1, maxWidth)
		if err != nil {
			return nil, err
		}
		if err := p.expect(']'); err != nil {
			return nil, err
		}
		return arrow.FixedSizeListOfField(int32(n), f), nil
	}
	return arrow.ListOfField(f), nil
}

// mapType reads map<K, V[, keys_sorted]>. Keys are never null; a "not null"
// after K is accepted and changes nothing.
func (p *parser) mapType() (arrow.DataType, error) {
	if err := p.expect('<'); err != nil {
		return nil, err
	}
	key, _, err := p.child()
	if err != nil {
		return nil, err
	}
	if err := p.expect(','); err != nil {
		return nil, err
	}
	item, nullable, err := p.child()
	if err != nil {
		return nil, err
	}
	sorted := false
	if p.accept(',') {
		if err := p.expectWord("keys_sorted"); err != nil {
			return nil, err
		}
		sorted = true
	}
	if err := p.expect('>'); err != nil {
		return nil, err
	}
	m := arrow.MapOfFields(arrow.Field{Name: "key", Type: key},
		arrow.Field{Name: "value", Type: item, Nullable: nullable})
	m.KeysSorted = sorted
	return m, nil
}

// members reads `name: T [not null] [= code], ...` up to '>'. withCodes
// allows the union type code suffix.
func (p *parser) members(withCodes bool) ([]arrow.Field, []int, error) {
	if err := p.expect('<'); err != nil {
		return nil, nil, err
	}
	var fields []arrow.Field
	var codes []int
	if p.accept('>') {
		return fields, codes, nil
	}
	for {
		n, err := p.name()
		if err != nil {
			return nil, nil, err
		}
		if err := p.expect(':'); err != nil {
			return nil, nil, err
		}
		t, nullable, err := p.child()
		if err != nil {
			return nil, nil, err
		}
		fields = append(fields, arrow.Field{Name: n, Type: t, Nullable: nullable})
		code := -1
		if withCodes && p.accept('=') {
			if code, err = p.int("union type code", 0, int(arrow.MaxUnionTypeCode)); err != nil {
				return nil, nil, err
			}
		}
		codes = append(codes, code)
		if p.accept('>') {
			return fields, codes, nil
		}
		if err := p.expect(','); err != nil {
			return nil, nil, err
		}
	}
}

func (p *parser) structType() (arrow.DataType, error) {
	fields, _, err := p.members(false)
	if err != nil {
		return nil, err
	}
	return arrow.StructOf(fields...), nil
}

func (p *parser) union(w string) (arrow.DataType, error) {
	start := p.pos
	fields, codes, err := p.members(true)
	if err != nil {
		return nil, err
	}
	if len(fields) > int(arrow.MaxUnionTypeCode)+1 {
		p.pos = start
		return nil, p.errorf("%s has more than %d members", w, int(arrow.MaxUnionTypeCode)+1)
	}
	typeCodes := make([]arrow.UnionTypeCode, len(fields))
	var seen [int(arrow.MaxUnionTypeCode) + 1]bool
	for i, c := range codes {
		if c < 0 {
			c = i
		}
		if seen[c] {
			p.pos = start
			return nil, p.errorf("%s: type code %d is used twice", w, c)
		}
		seen[c] = true
		typeCodes[i] = arrow.UnionTypeCode(c)
	}
	if w == "dense_union" {
		return arrow.DenseUnionOf(fields, typeCodes), nil
	}
	return arrow.SparseUnionOf(fields, typeCodes), nil
}

// dictionary reads dictionary<values=T, indices=I[, ordered]>, keys in any
// order; indices default to int32.
func (p *parser) dictionary() (arrow.DataType, error) {
	if err := p.expect('<'); err != nil {
		return nil, err
	}
	d := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32}
	for {
		save := p.pos
		switch k := p.word(); k {
		case "values", "indices":
			if err := p.expect('='); err != nil {
				return nil, err
			}
			at := p.pos
			t, err := p.typ()
			if err != nil {
				return nil, err
			}
			if k == "values" {
				if t.ID() == arrow.DICTIONARY {
					p.pos = at
					p.space()
					return nil, p.errorf("dictionary values cannot be a dictionary")
				}
				d.ValueType = t
			} else {
				if !arrow.IsInteger(t.ID()) {
					p.pos = at
					p.space()
					return nil, p.errorf("dictionary indices must be an integer type, not %s", FormatType(t))
				}
				d.IndexType = t
			}
		case "ordered":
			d.Ordered = true
		default:
			p.pos = save
			p.space()
			return nil, p.errorf("want values=, indices= or ordered in dictionary<>, found %s", p.found())
		}
		if p.accept('>') {
			break
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
	}
	if d.ValueType == nil {
		return nil, p.errorf("dictionary<> needs values=T")
	}
	return d, nil
}

// runEndEncoded reads run_end_encoded<run_ends=I, values=T [not null]>.
func (p *parser) runEndEncoded() (arrow.DataType, error) {
	if err := p.expect('<'); err != nil {
		return nil, err
	}
	if err := p.expectWord("run_ends"); err != nil {
		return nil, err
	}
	if err := p.expect('='); err != nil {
		return nil, err
	}
	at := p.pos
	ends, err := p.typ()
	if err != nil {
		return nil, err
	}
	switch ends.ID() {
	case arrow.INT16, arrow.INT32, arrow.INT64:
	default:
		p.pos = at
		p.space()
		return nil, p.errorf("run_ends must be int16, int32 or int64, not %s", FormatType(ends))
	}
	if err := p.expect(','); err != nil {
		return nil, err
	}
	if err := p.expectWord("values"); err != nil {
		return nil, err
	}
	if err := p.expect('='); err != nil {
		return nil, err
	}
	values, nullable, err := p.child()
	if err != nil {
		return nil, err
	}
	if err := p.expect('>'); err != nil {
		return nil, err
	}
	t := arrow.RunEndEncodedOf(ends, values)
	t.ValueNullable = nullable
	return t, nil
}
