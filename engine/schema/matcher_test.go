package schema

import (
	"errors"
	"github.com/ducktail/ducktail/internal/retype"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
)

// mustSchema builds a schema from "name type[ not null]" declarations.
func mustSchema(t testing.TB, decls ...string) *arrow.Schema {
	t.Helper()
	fields := make([]Field, len(decls))
	for i, d := range decls {
		name, typ, _ := strings.Cut(d, " ")
		// A trailing " not null" is the field's own: children's are inside <>.
		typ, notNull := strings.CutSuffix(typ, " not null")
		fields[i] = Field{Name: name, Type: typ, Nullable: !notNull}
	}
	s, err := FromFields(fields)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// column builds an array of type typ (a type name) from JSON.
func column(t testing.TB, mem memory.Allocator, typ, js string) arrow.Array {
	t.Helper()
	dt, err := ParseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	return columnOf(t, mem, dt, js)
}

func columnOf(t testing.TB, mem memory.Allocator, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(mem, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("FromJSON(%s, %s): %v", dt, js, err)
	}
	return arr
}

// batch makes a record from named columns, releasing them.
func batch(t testing.TB, names []string, cols ...arrow.Array) arrow.RecordBatch {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: names[i], Type: c.DataType(), Nullable: true}
	}
	rows := int64(0)
	if len(cols) > 0 {
		rows = int64(cols[0].Len())
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// dictionary builds a dictionary array from its indices and values.
func dictionary(t testing.TB, mem memory.Allocator, indexType, indices, valueType, values string) arrow.Array {
	t.Helper()
	idx := column(t, mem, indexType, indices)
	defer idx.Release()
	vals := column(t, mem, valueType, values)
	defer vals.Release()
	return array.NewDictionaryArray(&arrow.DictionaryType{IndexType: idx.DataType(), ValueType: vals.DataType()}, idx, vals)
}

func topicEvents(t testing.TB) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64},
		{Name: "event", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
}

// sameBuffer reports whether buffer i of a and b is the same *memory.Buffer:
// the column was reused, not copied.
func sameBuffer(a, b arrow.Array, i int) bool {
	ba, bb := a.Data().Buffers(), b.Data().Buffers()
	return i < len(ba) && i < len(bb) && ba[i] != nil && ba[i] == bb[i]
}

func TestConformReorderNoCopy(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewMatcher(topicEvents(t))
	in := batch(t, []string{"value", "event", "timestamp"},
		column(t, mem, "float64", `[1.5, 2.5, null]`),
		column(t, mem, "utf8", `["a", null, "c"]`),
		column(t, mem, "int64", `[10, 20, 30]`))
	defer in.Release()
	out, err := m.Conform(in, mem)
	if err != nil {
		// value has a null and is not nullable: expected refusal first.
		want := `field "value": not nullable, but the batch has 1 nulls in it`
		if err.Error() != want || !errors.Is(err, base.ErrInvalid) {
			t.Fatalf("Conform: %v, want %q", err, want)
		}
	} else {
		out.Release()
		t.Fatal("null in a non-nullable field accepted")
	}

	in2 := batch(t, []string{"value", "event", "timestamp"},
		column(t, mem, "float64", `[1.5, 2.5, 3.5]`),
		column(t, mem, "utf8", `["a", null, "c"]`),
		column(t, mem, "int64", `[10, 20, 30]`))
	defer in2.Release()
	out, err = m.Conform(in2, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if !out.Schema().Equal(m.Topic()) {
		t.Fatalf("schema %s, want %s", out.Schema(), m.Topic())
	}
	for i, src := range []int{2, 1, 0} {
		if !sameBuffer(out.Column(i), in2.Column(src), 1) {
			t.Errorf("column %d (%s) was copied", i, out.ColumnName(i))
		}
	}
	if got := out.Column(1).(*array.String).Value(2); got != "c" {
		t.Fatalf("event[2] = %q", got)
	}
}

func TestConformDictionaryDecoded(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := func(valueType arrow.DataType, topicType string) {
		t.Helper()
		m := NewMatcher(mustSchema(t, "timestamp int64 not null", "event "+topicType))
		// JSON "eA==" is that text in utf8 and the bytes "x" in binary.
		dict := dictionary(t, mem, "int8", `[1, 0, null, 2, 1]`, FormatType(valueType), `["eA==", "eQ==", null]`)
		in := batch(t, []string{"event", "timestamp"}, dict, column(t, mem, "int64", `[1, 2, 3, 4, 5]`))
		defer in.Release()
		out, err := m.Conform(in, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		got := out.Column(1)
		if !arrow.TypeEqual(got.DataType(), valueType) {
			t.Fatalf("decoded to %s", got.DataType())
		}
		want := columnOf(t, mem, valueType, `["eQ==", "eA==", null, null, "eQ=="]`)
		defer want.Release()
		if !array.Equal(got, want) {
			t.Fatalf("decoded %v, want %v", got, want)
		}
	}
	f(arrow.BinaryTypes.String, "utf8")
	f(arrow.BinaryTypes.Binary, "binary")
}

func TestConformFillsMissingNullable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewMatcher(topicEvents(t))
	in := batch(t, []string{"timestamp", "value"},
		column(t, mem, "int64", `[1, 2]`), column(t, mem, "float64", `[0.5, 1]`))
	defer in.Release()
	out, err := m.Conform(in, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	ev := out.Column(1)
	if ev.DataType().ID() != arrow.STRING || ev.Len() != 2 || ev.NullN() != 2 {
		t.Fatalf("event = %v (%s), want 2 nulls of utf8", ev, ev.DataType())
	}
}

func TestConformRefusals(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewMatcher(topicEvents(t))
	f := func(in arrow.RecordBatch, want string) {
		t.Helper()
		defer in.Release()
		if err := m.CheckSchema(in.Schema()); err != nil && err.Error() != want {
			t.Fatalf("CheckSchema: %v, want %q", err, want)
		}
		out, err := m.Conform(in, mem)
		if err == nil {
			out.Release()
			t.Fatalf("Conform accepted %v, want %q", in.Schema(), want)
		}
		if !errors.Is(err, base.ErrInvalid) || err.Error() != want {
			t.Fatalf("Conform: %v\nwant: %s", err, want)
		}
	}
	ts := func() arrow.Array { return column(t, mem, "int64", `[1]`) }
	val := func() arrow.Array { return column(t, mem, "float64", `[1]`) }
	f(batch(t, []string{"timestamp", "event"}, ts(), column(t, mem, "utf8", `["x"]`)),
		`field "value": missing and not nullable`)
	f(batch(t, []string{"timestamp", "value", "extra"}, ts(), val(), column(t, mem, "bool", `[true]`)),
		`field "extra": not in the topic schema`)
	f(batch(t, []string{"timestamp", "value"}, column(t, mem, "utf8", `["1"]`), val()),
		`field "timestamp": type mismatch: topic has int64, batch has utf8`)
	f(batch(t, []string{"timestamp", "value", "timestamp"}, ts(), val(), ts()),
		`field "timestamp": appears more than once in the batch`)
	f(batch(t, []string{"timestamp", "value"}, column(t, mem, "int64", `[null]`), val()),
		`field "timestamp": not nullable, but the batch has 1 nulls in it`)
	f(batch(t, []string{"timestamp", "value", "event"}, ts(), val(), column(t, mem, "large_utf8", `["x"]`)),
		`field "event": type mismatch: topic has utf8, batch has large_utf8`)
	ldict := dictionary(t, mem, "int32", `[0]`, "large_utf8", `["x"]`)
	f(batch(t, []string{"timestamp", "value", "event"}, ts(), val(), ldict),
		`field "event": type mismatch: topic has utf8, batch has dictionary<values=large_utf8, indices=int32>`)
}

func TestConformIgnoresChildNames(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	topic := mustSchema(t, "l list<int64>", "ll large_list<utf8>", "m map<utf8, int64>", "s struct<a: list<int64>>")
	m := NewMatcher(topic)
	elem := func(t arrow.DataType) arrow.Field { return arrow.Field{Name: "element", Type: t, Nullable: true} }
	l := columnOf(t, mem, arrow.ListOfField(elem(arrow.PrimitiveTypes.Int64)), `[[1, 2], null, []]`)
	ll := columnOf(t, mem, arrow.LargeListOfField(elem(arrow.BinaryTypes.String)), `[["x"], [], null]`)
	mt := arrow.MapOfFields(arrow.Field{Name: "keys", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "values", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	mp := columnOf(t, mem, mt, `[[{"key": "a", "value": 1}], null, []]`)
	st := columnOf(t, mem, arrow.StructOf(arrow.Field{Name: "a", Type: arrow.ListOfField(elem(arrow.PrimitiveTypes.Int64)), Nullable: true}),
		`[{"a": [1]}, {"a": null}, null]`)
	in := batch(t, []string{"s", "m", "ll", "l"}, st, mp, ll, l)
	defer in.Release()
	out, err := m.Conform(in, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	for i, src := range []int{3, 2, 1, 0} {
		got, want := out.Column(i), topic.Field(i).Type
		if got.DataType().Fingerprint() != want.Fingerprint() {
			t.Errorf("column %d: type %s, want exactly %s", i, got.DataType(), want)
		}
		if !sameBuffer(got, in.Column(src), 0) && !sameBuffer(got, in.Column(src), 1) {
			t.Errorf("column %d was copied", i)
		}
	}
	if v := out.Column(0).(*array.List).ListValues().(*array.Int64).Value(1); v != 2 {
		t.Fatalf("l[0][1] = %d", v)
	}
}

// nullListWithItems is a list<int64> whose null first entry has 2 items:
// valid Arrow that pqarrow cannot write.
func nullListWithItems(t testing.TB, mem memory.Allocator) arrow.Array {
	values := column(t, mem, "int64", `[1, 2, 3]`)
	defer values.Release()
	offsets := arrow.Int32Traits.CastToBytes([]int32{0, 2, 3})
	d := array.NewData(arrow.ListOf(arrow.PrimitiveTypes.Int64), 2,
		[]*memory.Buffer{memory.NewBufferBytes([]byte{0b10}), memory.NewBufferBytes(offsets)},
		[]arrow.ArrayData{values.Data()}, 1, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func TestConformRefusesUnwritableData(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := func(topic *arrow.Schema, col arrow.Array, want string) {
		t.Helper()
		in := batch(t, []string{topic.Field(0).Name}, col)
		defer in.Release()
		out, err := NewMatcher(topic).Conform(in, mem)
		if err == nil {
			out.Release()
			t.Fatalf("Conform accepted %v", in.Column(0))
		}
		if !errors.Is(err, base.ErrInvalid) || err.Error() != want {
			t.Fatalf("Conform: %v\nwant: %s", err, want)
		}
	}
	f(mustSchema(t, "l list<int64>"), nullListWithItems(t, mem),
		`field "l": row 0: a null list entry with 2 items cannot be stored in Parquet`)
	f(mustSchema(t, "v fixed_size_list<float32>[2]"), column(t, mem, "fixed_size_list<float32>[2]", `[null, [1, 2]]`),
		`field "v": row 1: a null fixed_size_list entry before a valid one cannot be stored in Parquet`)
	f(mustSchema(t, "s struct<a: int64 not null>"), column(t, mem, "struct<a: int64>", `[{"a": 1}, {"a": null}]`),
		`field "s": type mismatch: topic has struct<a: int64 not null>, batch has struct<a: int64>`)
	nested := column(t, mem, "list<struct<a: int64>>", `[[{"a": 1}, {"a": null}]]`)
	f(mustSchema(t, "l list<struct<a: int64 not null>>"), func() arrow.Array {
		defer nested.Release()
		a, err := retype.Rebind(nested, arrow.ListOf(arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64})))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}(), `field "l.a": not nullable, but row 1 of it is null`)

	// The same shapes, written canonically, are accepted.
	m := NewMatcher(mustSchema(t, "l list<int64>", "v fixed_size_list<float32>[2]"))
	in := batch(t, []string{"l", "v"}, column(t, mem, "list<int64>", `[null, [3]]`),
		column(t, mem, "fixed_size_list<float32>[2]", `[[1, 2], null]`))
	defer in.Release()
	out, err := m.Conform(in, mem)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
}

// TestConformDictionaryNullValues: nulls among a dictionary's values (which
// Parquet cannot hold) are moved into the indices; the rows read the same.
func TestConformDictionaryNullValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dict := dictionary(t, mem, "int32", `[0, 1, null, 1, 0]`, "utf8", `["x", null]`)
	in := batch(t, []string{"d"}, dict)
	defer in.Release()
	m := NewMatcher(mustSchema(t, "d dictionary<values=utf8, indices=int32>"))
	out, err := m.Conform(in, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	d := out.Column(0).(*array.Dictionary)
	if d.Dictionary().NullN() != 0 {
		t.Fatalf("dictionary still has %d nulls", d.Dictionary().NullN())
	}
	want := []string{"x", "", "", "", "x"}
	for i := 0; i < d.Len(); i++ {
		if null := i >= 1 && i <= 3; d.IsNull(i) != null {
			t.Fatalf("row %d: null=%v, want %v", i, d.IsNull(i), null)
		}
		if d.IsValid(i) && d.Dictionary().(*array.String).Value(d.GetValueIndex(i)) != want[i] {
			t.Fatalf("row %d reads %q", i, d.Dictionary().(*array.String).Value(d.GetValueIndex(i)))
		}
	}
	if d.NullN() != 3 {
		t.Fatalf("NullN = %d, want 3", d.NullN())
	}
}

func TestConformDictionaryBadIndex(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	values := column(t, mem, "utf8", `["x"]`)
	defer values.Release()
	idx := column(t, mem, "int32", `[0, 7]`)
	defer idx.Release()
	// NewDictionaryArray does not check indices: data from a client may not either.
	d := array.NewData(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String},
		2, idx.Data().Buffers(), nil, 0, 0)
	d.SetDictionary(values.Data())
	dict := array.MakeFromData(d)
	d.Release()
	in := batch(t, []string{"event"}, dict)
	defer in.Release()
	_, err := NewMatcher(mustSchema(t, "event utf8")).Conform(in, mem)
	want := `field "event": row 1: dictionary index 7 is outside the dictionary of 1 values`
	if err == nil || err.Error() != want {
		t.Fatalf("Conform: %v, want %q", err, want)
	}
}

func TestMatcherCachesByShape(t *testing.T) {
	m := NewMatcher(topicEvents(t))
	s1 := arrow.NewSchema([]arrow.Field{{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64}, {Name: "value", Type: arrow.PrimitiveTypes.Float64}}, nil)
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	s2 := arrow.NewSchema([]arrow.Field{{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64, Metadata: md}, {Name: "value", Type: arrow.PrimitiveTypes.Float64}}, nil)
	s3 := arrow.NewSchema([]arrow.Field{{Name: "value", Type: arrow.PrimitiveTypes.Float64}, {Name: "timestamp", Type: arrow.PrimitiveTypes.Int64}}, nil)
	p1 := m.planFor(s1)
	if p1.err != nil {
		t.Fatal(p1.err)
	}
	if m.planFor(s2) != p1 {
		t.Fatal("same shape with other metadata was planned again")
	}
	if m.planFor(s3) == p1 {
		t.Fatal("another field order reused the plan")
	}
	if m.planFor(s1) != p1 {
		t.Fatal("plan for s1 lost")
	}
	for i := 0; i < 2*maxPlans; i++ {
		s := arrow.NewSchema([]arrow.Field{{Name: strings.Repeat("x", i+1), Type: arrow.PrimitiveTypes.Int64}}, nil)
		if m.CheckSchema(s) == nil {
			t.Fatal("unknown field accepted")
		}
	}
	m.mu.RLock()
	n := len(m.plans)
	m.mu.RUnlock()
	if n > maxPlans {
		t.Fatalf("%d cached plans, bound is %d", n, maxPlans)
	}
}

func TestConformConcurrent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewMatcher(topicEvents(t))
	a := batch(t, []string{"timestamp", "value"}, column(t, mem, "int64", `[1, 2]`), column(t, mem, "float64", `[1, 2]`))
	defer a.Release()
	b := batch(t, []string{"value", "event", "timestamp"}, column(t, mem, "float64", `[1]`),
		column(t, mem, "utf8", `["x"]`), column(t, mem, "int64", `[1]`))
	defer b.Release()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				in := a
				if (i+g)%2 == 0 {
					in = b
				}
				out, err := m.Conform(in, mem)
				if err != nil {
					errs <- err
					return
				}
				if out.NumRows() != in.NumRows() {
					errs <- errors.New("row count changed")
				}
				out.Release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
