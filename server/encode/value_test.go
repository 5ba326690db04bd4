package encode

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fromJSON builds an array of type dt from a JSON array (arrow-go's
// builders' JSON reader).
func fromJSON(t testing.TB, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(memory.DefaultAllocator, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("FromJSON(%s, %s): %v", dt, js, err)
	}
	t.Cleanup(arr.Release)
	return arr
}

// allJSON renders every row of arr, as a JSON array.
func allJSON(arr arrow.Array) string {
	f := NewValueAppender(arr)
	b := []byte{'['}
	for i := 0; i < arr.Len(); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = f(b, i)
	}
	return string(append(b, ']'))
}

// allText renders every row of arr as CSV text cells joined by '|'.
func allText(arr arrow.Array) string {
	f := newTextAppender(arr)
	var b []byte
	for i := 0; i < arr.Len(); i++ {
		if i > 0 {
			b = append(b, '|')
		}
		b = f(b, i)
	}
	return string(b)
}

func TestJSONValues(t *testing.T) {
	mdn := arrow.FixedWidthTypes.MonthDayNanoInterval
	f := func(name string, dt arrow.DataType, in, want, wantText string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			arr := fromJSON(t, dt, in)
			got := allJSON(arr)
			if got != want {
				t.Errorf("JSON of %s %s:\n got %s\nwant %s", dt, in, got, want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON: %s", got)
			}
			if wantText != "" {
				if txt := allText(arr); txt != wantText {
					t.Errorf("text of %s %s:\n got %s\nwant %s", dt, in, txt, wantText)
				}
			}
		})
	}
	f("null", arrow.Null, `[null,null]`, `[null,null]`, "|")
	f("bool", arrow.FixedWidthTypes.Boolean, `[true,false,null]`, `[true,false,null]`, "true|false|")
	f("int8", arrow.PrimitiveTypes.Int8, `[-128,127,null]`, `[-128,127,null]`, "-128|127|")
	f("int16", arrow.PrimitiveTypes.Int16, `[-32768,32767]`, `[-32768,32767]`, "")
	f("int32", arrow.PrimitiveTypes.Int32, `[-2147483648,0]`, `[-2147483648,0]`, "")
	f("int64", arrow.PrimitiveTypes.Int64, `[-9223372036854775808,9223372036854775807,9007199254740993]`,
		`[-9223372036854775808,9223372036854775807,9007199254740993]`, "")
	f("uint8", arrow.PrimitiveTypes.Uint8, `[255]`, `[255]`, "")
	f("uint16", arrow.PrimitiveTypes.Uint16, `[65535]`, `[65535]`, "")
	f("uint32", arrow.PrimitiveTypes.Uint32, `[4294967295]`, `[4294967295]`, "")
	f("uint64", arrow.PrimitiveTypes.Uint64, `[18446744073709551615,null]`, `[18446744073709551615,null]`, "")
	f("float64", arrow.PrimitiveTypes.Float64, `[0.1,1e21,1e-7,-2.5,100,0,null,123456789012]`,
		`[0.1,1e+21,1e-7,-2.5,100,0,null,123456789012]`, "0.1|1e+21|1e-7|-2.5|100|0||123456789012")
	f("float32", arrow.PrimitiveTypes.Float32, `[0.1,3.4028235e38,1.5]`, `[0.1,3.4028235e+38,1.5]`, "")
	f("float16", arrow.FixedWidthTypes.Float16, `[1.5,-0.25]`, `[1.5,-0.25]`, "")
	f("decimal128", &arrow.Decimal128Type{Precision: 18, Scale: 3},
		`["123.450","-0.005","0","999999999999999.999",null]`,
		`[123.450,-0.005,0.000,999999999999999.999,null]`, "123.450|-0.005|0.000|999999999999999.999|")
	f("decimal128 wide", &arrow.Decimal128Type{Precision: 38, Scale: 2},
		`["12345678901234567890123456789012.34","-12345678901234567890123456789012.34"]`,
		`[12345678901234567890123456789012.34,-12345678901234567890123456789012.34]`, "")
	f("decimal128 scale 0", &arrow.Decimal128Type{Precision: 10, Scale: 0}, `["42","-7"]`, `[42,-7]`, "")
	f("decimal256", &arrow.Decimal256Type{Precision: 60, Scale: 4},
		`["1.5","-123456789012345678901234567890123456789012345.6789"]`,
		`[1.5000,-123456789012345678901234567890123456789012345.6789]`, "")
	f("decimal32", &arrow.Decimal32Type{Precision: 7, Scale: 2}, `["12.34","-0.01"]`, `[12.34,-0.01]`, "")
	f("decimal64", &arrow.Decimal64Type{Precision: 15, Scale: 1}, `["-12.3"]`, `[-12.3]`, "")
	f("utf8", arrow.BinaryTypes.String, `["a\"b\\c","line\nbreak\t","\u0001\u001f","héllo ✓","\u2028\u2029",null,""]`,
		`["a\"b\\c","line\nbreak\t","\u0001\u001f","héllo ✓","\u2028\u2029",null,""]`, "")
	f("large_utf8", arrow.BinaryTypes.LargeString, `["x","<&>"]`, `["x","<&>"]`, "x|<&>")
	f("utf8_view", arrow.BinaryTypes.StringView, `["short","a string longer than twelve bytes"]`,
		`["short","a string longer than twelve bytes"]`, "short|a string longer than twelve bytes")
	f("binary", arrow.BinaryTypes.Binary, `["aGVsbG8=",null]`, `["aGVsbG8=",null]`, "aGVsbG8=|")
	f("large_binary", arrow.BinaryTypes.LargeBinary, `["AP8="]`, `["AP8="]`, "AP8=")
	f("binary_view", arrow.BinaryTypes.BinaryView, `["AP8="]`, `["AP8="]`, "")
	f("fixed_size_binary", &arrow.FixedSizeBinaryType{ByteWidth: 2}, `["AP8="]`, `["AP8="]`, "")
	f("date32", arrow.FixedWidthTypes.Date32, `["2022-04-22","1969-12-31"]`, `["2022-04-22","1969-12-31"]`, "2022-04-22|1969-12-31")
	f("date64", arrow.FixedWidthTypes.Date64, `["2022-04-22"]`, `["2022-04-22"]`, "")
	f("timestamp s", &arrow.TimestampType{Unit: arrow.Second}, `[1650661388]`, `["2022-04-22T21:03:08Z"]`, "2022-04-22T21:03:08Z")
	f("timestamp ms", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, `[1650661388844,-1]`,
		`["2022-04-22T21:03:08.844Z","1969-12-31T23:59:59.999Z"]`, "")
	f("timestamp us", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, `[1650661388844123]`,
		`["2022-04-22T21:03:08.844123Z"]`, "2022-04-22T21:03:08.844123Z")
	f("timestamp ns other zone", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "America/New_York"},
		`[1650661388844123456]`, `["2022-04-22T21:03:08.844123456Z"]`, "")
	f("time32 s", arrow.FixedWidthTypes.Time32s, `[3723]`, `["01:02:03"]`, "01:02:03")
	f("time32 ms", arrow.FixedWidthTypes.Time32ms, `[3723004]`, `["01:02:03.004"]`, "")
	f("time64 us", arrow.FixedWidthTypes.Time64us, `[86399999999]`, `["23:59:59.999999"]`, "")
	f("time64 ns", arrow.FixedWidthTypes.Time64ns, `[1]`, `["00:00:00.000000001"]`, "")
	f("duration ms", arrow.FixedWidthTypes.Duration_ms, `[1500,-3]`, `[1500,-3]`, "1500|-3")
	f("month interval", arrow.FixedWidthTypes.MonthInterval, `[{"months":14}]`, `[{"months":14}]`, `{"months":14}`)
	f("day time interval", arrow.FixedWidthTypes.DayTimeInterval, `[{"days":2,"milliseconds":500}]`,
		`[{"days":2,"milliseconds":500}]`, "")
	f("month day nano interval", mdn, `[{"months":1,"days":2,"nanoseconds":3}]`,
		`[{"months":1,"days":2,"nanoseconds":3}]`, "")
	f("list", arrow.ListOf(arrow.PrimitiveTypes.Int64), `[[1,2,null],[],null]`, `[[1,2,null],[],null]`, "[1,2,null]|[]|")
	f("large_list", arrow.LargeListOf(arrow.BinaryTypes.String), `[["a","b"]]`, `[["a","b"]]`, `["a","b"]`)
	f("fixed_size_list", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int32), `[[1,2],null,[3,4]]`, `[[1,2],null,[3,4]]`, "")
	f("list_view", arrow.ListViewOf(arrow.PrimitiveTypes.Int16), `[[1],[2,3]]`, `[[1],[2,3]]`, "")
	f("large_list_view", arrow.LargeListViewOf(arrow.PrimitiveTypes.Int16), `[[5,6]]`, `[[5,6]]`, "")
	f("struct", arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b\"q", Type: arrow.BinaryTypes.String, Nullable: true}),
		`[{"a":1,"b\"q":"x"},null,{"a":null,"b\"q":"y"}]`,
		`[{"a":1,"b\"q":"x"},null,{"a":null,"b\"q":"y"}]`, `{"a":1,"b\"q":"x"}||{"a":null,"b\"q":"y"}`)
	f("map", arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String),
		`[[{"key":1,"value":"one"},{"key":2,"value":null}],[],null]`,
		`[[{"key":1,"value":"one"},{"key":2,"value":null}],[],null]`, "")
}

func TestJSONValuesBuilt(t *testing.T) {
	mem := memory.DefaultAllocator
	f := func(name string, arr arrow.Array, want, wantText string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			defer arr.Release()
			got := allJSON(arr)
			if got != want {
				t.Errorf("JSON of %s:\n got %s\nwant %s", arr.DataType(), got, want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON: %s", got)
			}
			if wantText != "" {
				if txt := allText(arr); txt != wantText {
					t.Errorf("text:\n got %s\nwant %s", txt, wantText)
				}
			}
		})
	}

	// dictionary<int8, utf8> with a null index.
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"red", "green", "red"} {
		if err := db.AppendString(s); err != nil {
			t.Fatal(err)
		}
	}
	db.AppendNull()
	f("dictionary", db.NewArray(), `["red","green","red",null]`, "red|green|red|")
	db.Release()

	// run-end encoded <int32, float64>: runs [1.5 x2, null x1, 7 x3].
	rb := array.NewRunEndEncodedBuilder(mem, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float64)
	vb := rb.ValueBuilder().(*array.Float64Builder)
	rb.Append(2)
	vb.Append(1.5)
	rb.AppendNull()
	rb.Append(3)
	vb.Append(7)
	ree := rb.NewArray()
	rb.Release()
	f("run-end encoded", ree, `[1.5,1.5,null,7,7,7]`, "1.5|1.5||7|7|7")

	// A slice of the REE array, to check the logical offset.
	rb = array.NewRunEndEncodedBuilder(mem, arrow.PrimitiveTypes.Int16, arrow.BinaryTypes.String)
	sb := rb.ValueBuilder().(*array.StringBuilder)
	rb.Append(2)
	sb.Append("a")
	rb.Append(2)
	sb.Append("b")
	full := rb.NewArray()
	rb.Release()
	f("run-end encoded slice", array.NewSlice(full, 1, 4), `["a","b","b"]`, "")
	full.Release()

	// sparse union <int64, utf8>.
	ids := fromJSON(t, arrow.PrimitiveTypes.Int8, `[0,1,0]`)
	ints := fromJSON(t, arrow.PrimitiveTypes.Int64, `[5,0,null]`)
	strs := fromJSON(t, arrow.BinaryTypes.String, `["","x",""]`)
	su, err := array.NewSparseUnionFromArrays(ids, []arrow.Array{ints, strs})
	if err != nil {
		t.Fatal(err)
	}
	f("sparse union", su, `[5,"x",null]`, "")

	// dense union <int64, utf8>.
	offs := fromJSON(t, arrow.PrimitiveTypes.Int32, `[0,0,1]`)
	dints := fromJSON(t, arrow.PrimitiveTypes.Int64, `[9]`)
	dstrs := fromJSON(t, arrow.BinaryTypes.String, `["y","z"]`)
	du, err := array.NewDenseUnionFromArrays(fromJSON(t, arrow.PrimitiveTypes.Int8, `[1,0,1]`), offs, []arrow.Array{dints, dstrs})
	if err != nil {
		t.Fatal(err)
	}
	f("dense union", du, `["y",9,"z"]`, "")

	// extension types: by their storage.
	storage := fromJSON(t, arrow.BinaryTypes.String, `["opaque",null]`)
	ext := array.NewExtensionArrayWithStorage(extensions.NewOpaqueType(arrow.BinaryTypes.String, "t", "v"), storage)
	f("extension opaque", ext, `["opaque",null]`, "opaque|")
	ub := extensions.NewUUIDBuilder(mem)
	ub.AppendBytes([16]byte{0: 0xff, 15: 1})
	f("extension uuid", ub.NewArray(), `["/wAAAAAAAAAAAAAAAAAAAQ=="]`, "")
	ub.Release()

	// decimals built from Num values at the edges of int64 and beyond.
	d128 := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: 3})
	d128.Append(decimal128.FromI64(-9223372036854775808))
	d128.Append(decimal128.FromI64(9223372036854775807))
	d128.Append(decimal128.New(1, 0)) // 2^64
	d128.Append(decimal128.FromI64(5))
	f("decimal128 edges", d128.NewArray(),
		`[-9223372036854775.808,9223372036854775.807,18446744073709551.616,0.005]`, "")
	d128.Release()
	d256 := array.NewDecimal256Builder(mem, &arrow.Decimal256Type{Precision: 40, Scale: -2})
	d256.Append(decimal256.FromI64(-3))
	d256.Append(decimal256.FromI64(0))
	f("decimal256 negative scale", d256.NewArray(), `[-300,0]`, "")
	d256.Release()

	// A sliced list: offsets must be honoured.
	lst := fromJSON(t, arrow.ListOf(arrow.PrimitiveTypes.Int64), `[[1],[2,3],[4]]`)
	f("list slice", array.NewSlice(lst, 1, 3), `[[2,3],[4]]`, "")
	// Invalid UTF-8 is replaced.
	bb := array.NewStringBuilder(mem)
	bb.Append("ok\xffend")
	f("invalid utf8", bb.NewArray(), `["ok\ufffdend"]`, "ok\uFFFDend")
	bb.Release()
}

func TestFloatSpecials(t *testing.T) {
	bld := array.NewFloat64Builder(memory.DefaultAllocator)
	defer bld.Release()
	bld.AppendValues([]float64{math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, 1.7976931348623157e308}, nil)
	arr := bld.NewArray()
	defer arr.Release()
	got := allJSON(arr)
	want := `[null,null,null,5e-324,1.7976931348623157e+308]`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Matches encoding/json for ordinary values.
	for _, v := range []float64{0.1, 1e20, 1e21, 1e-6, 1e-7, 123.456, -0.0} {
		ej, _ := json.Marshal(v)
		if got := string(appendFloat(nil, v, 64)); got != string(ej) {
			t.Errorf("appendFloat(%v) = %s, encoding/json %s", v, got, ej)
		}
	}
	for _, v := range []float32{0.1, 1e20, 1e21, 1e-7, 3.3} {
		ej, _ := json.Marshal(v)
		if got := string(appendFloat(nil, float64(v), 32)); got != string(ej) {
			t.Errorf("appendFloat32(%v) = %s, encoding/json %s", v, got, ej)
		}
	}
}

func TestAppendJSONValue(t *testing.T) {
	arr := fromJSON(t, arrow.BinaryTypes.String, `["a","b"]`)
	got := AppendJSONValue([]byte("x="), arr, 1)
	if string(got) != `x="b"` {
		t.Errorf("got %s", got)
	}
}

// Extreme temporal values must not panic and must stay valid JSON.
func TestTemporalExtremes(t *testing.T) {
	f := func(dt arrow.DataType, in string) {
		t.Helper()
		arr := fromJSON(t, dt, in)
		got := allJSON(arr)
		if !json.Valid([]byte(got)) {
			t.Errorf("%s %s: invalid JSON %s", dt, in, got)
		}
	}
	const i64 = `[9223372036854775807,-9223372036854775808,0]`
	f(&arrow.TimestampType{Unit: arrow.Second}, i64)
	f(&arrow.TimestampType{Unit: arrow.Millisecond}, i64)
	f(&arrow.TimestampType{Unit: arrow.Microsecond}, i64)
	f(&arrow.TimestampType{Unit: arrow.Nanosecond}, i64)
	f(arrow.FixedWidthTypes.Time64ns, i64)
	f(arrow.FixedWidthTypes.Time32s, `[2147483647,-2147483648]`)
	f(arrow.FixedWidthTypes.Date32, `[2147483647,-2147483648]`)
	f(arrow.FixedWidthTypes.Date64, i64)
	f(arrow.FixedWidthTypes.Duration_ns, i64)
}
