package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

// typeNames is every grammar form: input, then its canonical FormatType text.
func typeNames() [][2]string {
	return [][2]string{
		{"null", "null"},
		{"bool", "bool"},
		{"int8", "int8"},
		{"int16", "int16"},
		{"int32", "int32"},
		{"int64", "int64"},
		{"uint8", "uint8"},
		{"uint16", "uint16"},
		{"uint32", "uint32"},
		{"uint64", "uint64"},
		{"float16", "float16"},
		{"float32", "float32"},
		{"float64", "float64"},
		{"utf8", "utf8"},
		{"string", "utf8"},
		{"large_utf8", "large_utf8"},
		{"large_string", "large_utf8"},
		{"binary", "binary"},
		{"large_binary", "large_binary"},
		{"utf8_view", "utf8_view"},
		{"string_view", "utf8_view"},
		{"binary_view", "binary_view"},
		{"date32", "date32"},
		{"date64", "date64"},
		{"time32[s]", "time32[s]"},
		{"time32[ms]", "time32[ms]"},
		{"time64[us]", "time64[us]"},
		{"time64[ns]", "time64[ns]"},
		{"timestamp[s]", "timestamp[s]"},
		{"timestamp[ms]", "timestamp[ms]"},
		{"timestamp[us]", "timestamp[us]"},
		{"timestamp[ns]", "timestamp[ns]"},
		{"timestamp[ms, tz=UTC]", "timestamp[ms, tz=UTC]"},
		{" timestamp [ us ,tz = America/New_York ] ", "timestamp[us, tz=America/New_York]"},
		{"timestamp[ns, tz=+05:30]", "timestamp[ns, tz=+05:30]"},
		{`timestamp[ms, tz="odd zone]"]`, `timestamp[ms, tz="odd zone]"]`},
		{"duration[s]", "duration[s]"},
		{"duration[ms]", "duration[ms]"},
		{"duration[us]", "duration[us]"},
		{"duration[ns]", "duration[ns]"},
		{"interval[month]", "interval[month]"},
		{"interval[day_time]", "interval[day_time]"},
		{"interval[month_day_nano]", "interval[month_day_nano]"},
		{"decimal128(38, 2)", "decimal128(38, 2)"},
		{"decimal(10,2)", "decimal128(10, 2)"},
		{"decimal(7)", "decimal128(7, 0)"},
		{"decimal32(9, 9)", "decimal32(9, 9)"},
		{"decimal64(18,0)", "decimal64(18, 0)"},
		{"decimal256(76, 10)", "decimal256(76, 10)"},
		{"fixed_size_binary[16]", "fixed_size_binary[16]"},
		{"list<int64>", "list<int64>"},
		{"list<int64 not null>", "list<int64 not null>"},
		{"list < list < utf8 > >", "list<list<utf8>>"},
		{"large_list<utf8>", "large_list<utf8>"},
		{"list_view<float64>", "list_view<float64>"},
		{"large_list_view<bool not null>", "large_list_view<bool not null>"},
		{"fixed_size_list<float32>[3]", "fixed_size_list<float32>[3]"},
		{"fixed_size_list<float32 not null> [ 4 ]", "fixed_size_list<float32 not null>[4]"},
		{"map<utf8, int64>", "map<utf8, int64>"},
		{"map<utf8 not null, int64 not null>", "map<utf8, int64 not null>"},
		{"map<int32, list<utf8>, keys_sorted>", "map<int32, list<utf8>, keys_sorted>"},
		{"struct<a: int64, b: utf8 not null>", "struct<a: int64, b: utf8 not null>"},
		{"struct<>", "struct<>"},
		{`struct<"a b": int64, "x\"y": struct<z.w: bool>, é: utf8>`, `struct<"a b": int64, "x\"y": struct<z.w: bool>, é: utf8>`},
		{`struct<"": int8>`, `struct<"": int8>`},
		{"dictionary<values=utf8, indices=int32>", "dictionary<values=utf8, indices=int32>"},
		{"dictionary<indices=uint8, values=binary>", "dictionary<values=binary, indices=uint8>"},
		{"dictionary<values=utf8>", "dictionary<values=utf8, indices=int32>"},
		{"dictionary<values=int64, indices=int16, ordered>", "dictionary<values=int64, indices=int16, ordered>"},
		{"run_end_encoded<run_ends=int32, values=utf8>", "run_end_encoded<run_ends=int32, values=utf8>"},
		{"run_end_encoded<run_ends=int64, values=float64 not null>", "run_end_encoded<run_ends=int64, values=float64 not null>"},
		{"dense_union<a: int32, b: utf8>", "dense_union<a: int32, b: utf8>"},
		{"sparse_union<a: int32 = 5, b: utf8 not null = 7>", "sparse_union<a: int32 = 5, b: utf8 not null = 7>"},
		{"sparse_union<>", "sparse_union<>"},
		{"struct<l: list<struct<m: map<utf8, dictionary<values=utf8, indices=int8>>>>>",
			"struct<l: list<struct<m: map<utf8, dictionary<values=utf8, indices=int8>>>>>"},
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	for _, c := range typeNames() {
		in, want := c[0], c[1]
		dt, err := ParseType(in)
		if err != nil {
			t.Errorf("ParseType(%q): %v", in, err)
			continue
		}
		if got := FormatType(dt); got != want {
			t.Errorf("FormatType(ParseType(%q)) = %q, want %q", in, got, want)
			continue
		}
		again, err := ParseType(want)
		if err != nil {
			t.Errorf("ParseType(%q) (canonical): %v", want, err)
			continue
		}
		if !arrow.TypeEqual(dt, again) {
			t.Errorf("ParseType(%q) = %s, ParseType(%q) = %s: not equal", in, dt, want, again)
		}
	}
}

func TestParseTypeValues(t *testing.T) {
	f := func(in string, want arrow.DataType) {
		t.Helper()
		got, err := ParseType(in)
		if err != nil {
			t.Fatalf("ParseType(%q): %v", in, err)
		}
		if !arrow.TypeEqual(got, want) {
			t.Fatalf("ParseType(%q) = %s, want %s", in, got, want)
		}
	}
	f("int64", arrow.PrimitiveTypes.Int64)
	f("string", arrow.BinaryTypes.String)
	f("timestamp[ms]", &arrow.TimestampType{Unit: arrow.Millisecond})
	f("timestamp[ms, tz=UTC]", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"})
	f("decimal(10, 2)", &arrow.Decimal128Type{Precision: 10, Scale: 2})
	f("list<int64>", arrow.ListOf(arrow.PrimitiveTypes.Int64))
	f("list<int64 not null>", arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64))
	f("map<utf8, float64>", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64))
	f("struct<a: int64, b: utf8 not null>", arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String}))
	f("dictionary<values=utf8, indices=int32>", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String})
	f("dense_union<a: int32, b: utf8>", arrow.DenseUnionOf([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}}, []arrow.UnionTypeCode{0, 1}))
}

func TestParseTypeErrors(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := ParseType(in)
		if err == nil {
			t.Fatalf("ParseType(%q) succeeded, want error %q", in, want)
		}
		if !errors.Is(err, base.ErrInvalid) {
			t.Fatalf("ParseType(%q): %v is not ErrInvalid", in, err)
		}
		if err.Error() != want {
			t.Fatalf("ParseType(%q) error\n got: %s\nwant: %s", in, err, want)
		}
	}
	f("", `type "": want a type name, found end of input (at offset 0)`)
	f("intx", `type "intx": unknown type name "intx" (at offset 0)`)
	f("Int64", `type "Int64": unknown type name "Int64" (at offset 0)`)
	f("list<", `type "list<": want a type name, found end of input (at offset 5)`)
	f("list<int64", `type "list<int64": want '>', found end of input (at offset 10)`)
	f("list<int64>>", `type "list<int64>>": unexpected '>' after the type (at offset 11)`)
	f("list<int64 not nul>", `type "list<int64 not nul>": want "null", found "nul" (at offset 15)`)
	f("decimal128(90, 2)", `type "decimal128(90, 2)": decimal128 precision 90 is out of range [1, 38] (at offset 11)`)
	f("decimal(10, 11)", `type "decimal(10, 11)": decimal128 scale 11 is out of range [0, 10] (at offset 12)`)
	f("decimal32(10, 1)", `type "decimal32(10, 1)": decimal32 precision 10 is out of range [1, 9] (at offset 10)`)
	f("decimal(x)", `type "decimal(x)": want decimal128 precision (a number), found 'x' (at offset 8)`)
	f("timestamp[xs]", `type "timestamp[xs]": unknown time unit "xs" (want s, ms, us, ns) (at offset 10)`)
	f("time32[us]", `type "time32[us]": unknown time unit "us" (want s, ms) (at offset 7)`)
	f("time64[ms]", `type "time64[ms]": unknown time unit "ms" (want us, ns) (at offset 7)`)
	f("timestamp[ms, zone=UTC]", `type "timestamp[ms, zone=UTC]": want "tz", found "zone" (at offset 14)`)
	f("timestamp[ms, tz=]", `type "timestamp[ms, tz=]": time zone is empty (at offset 17)`)
	f("timestamp", `type "timestamp": want '[', found end of input (at offset 9)`)
	f("interval[week]", `type "interval[week]": unknown interval unit "week" (want month, day_time, month_day_nano) (at offset 9)`)
	f("fixed_size_binary[0]", `type "fixed_size_binary[0]": byte width 0 is out of range [1, 1073741824] (at offset 18)`)
	f("fixed_size_list<int8>[-1]", `type "fixed_size_list<int8>[-1]": list size -1 is out of range [1, 1073741824] (at offset 22)`)
	f("map<utf8>", `type "map<utf8>": want ',', found '>' (at offset 8)`)
	f("map<utf8, int8, sorted>", `type "map<utf8, int8, sorted>": want "keys_sorted", found "sorted" (at offset 16)`)
	f("struct<a int64>", `type "struct<a int64>": want ':', found 'i' (at offset 9)`)
	f("struct<a: int64,>", `type "struct<a: int64,>": want a field name, found '>' (at offset 16)`)
	f(`struct<"a: int64>`, `type "struct<\"a: int64>": unterminated quoted name (at offset 7)`)
	f("dictionary<values=utf8, indices=utf8>", `type "dictionary<values=utf8, indices=utf8>": dictionary indices must be an integer type, not utf8 (at offset 32)`)
	f("dictionary<indices=int8>", `type "dictionary<indices=int8>": dictionary<> needs values=T (at offset 24)`)
	f("dictionary<values=dictionary<values=utf8>>", `type "dictionary<values=dictionary<values=utf8>>": dictionary values cannot be a dictionary (at offset 18)`)
	f("run_end_encoded<run_ends=uint32, values=utf8>", `type "run_end_encoded<run_ends=uint32, values=utf8>": run_ends must be int16, int32 or int64, not uint32 (at offset 25)`)
	f("dense_union<a: int8 = 1, b: int8 = 1>", `type "dense_union<a: int8 = 1, b: int8 = 1>": dense_union: type code 1 is used twice (at offset 11)`)
	f("sparse_union<a: int8 = 128>", `type "sparse_union<a: int8 = 128>": union type code 128 is out of range [0, 127] (at offset 23)`)
	f(strings.Repeat("list<", 40)+"int8"+strings.Repeat(">", 40), `type "`+strings.Repeat("list<", 40)+"int8"+strings.Repeat(">", 40)+`": type is nested more than 32 deep (at offset 160)`)
	f(strings.Repeat(" ", MaxTypeNameLen+1), "type name is longer than 16384 bytes")
}

func FuzzParseType(f *testing.F) {
	for _, c := range typeNames() {
		f.Add(c[0])
	}
	for _, s := range []string{"list<", "decimal128(90, 2)", "timestamp[xs]", "intx", `struct<"\u00e9\\": int8>`, "dictionary<ordered, values=utf8>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dt, err := ParseType(s)
		if err != nil {
			if !errors.Is(err, base.ErrInvalid) {
				t.Fatalf("ParseType(%q): error %v is not ErrInvalid", s, err)
			}
			return
		}
		text := FormatType(dt)
		again, err := ParseType(text)
		if err != nil {
			t.Fatalf("ParseType(%q) ok, but its FormatType %q does not parse: %v", s, text, err)
		}
		if !arrow.TypeEqual(dt, again) {
			t.Fatalf("ParseType(%q) = %s, but ParseType(FormatType) = %s", s, dt, again)
		}
		if FormatType(again) != text {
			t.Fatalf("FormatType not stable for %q: %q then %q", s, text, FormatType(again))
		}
	})
}
