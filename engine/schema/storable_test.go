package schema

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/ducktail/ducktail/internal/retype"
	"github.com/ducktail/ducktail/internal/sharedtest"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/ducktail/ducktail/base"
)

// roundTrip writes a two-row column of type t (an "empty" value, then a
// null) with pqarrow and WithStoreSchema, reads it back with ReadTable, and
// reports why it does not come back equal, or "" if it does.
func roundTrip(t arrow.DataType) (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("panic: %v", r)
		}
	}()
	mem := memory.NewGoAllocator()
	b := array.NewBuilder(mem, t)
	defer b.Release()
	b.AppendEmptyValue()
	b.AppendNull()
	arr := b.NewArray()
	defer arr.Release()
	sc := arrow.NewSchema([]arrow.Field{{Name: "f", Type: t, Nullable: true}}, nil)
	rec := array.NewRecordBatch(sc, []arrow.Array{arr}, int64(arr.Len()))
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 1024, parquet.NewWriterProperties(),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		return "write: " + err.Error()
	}
	got, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(buf.Bytes()), nil, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		return "read: " + err.Error()
	}
	defer got.Release()
	gt := got.Schema().Field(0).Type
	if !EqualIgnoringNames(gt, t) {
		return "reads back as " + FormatType(gt)
	}
	chunks := got.Column(0).Data().Chunks()
	if len(chunks) != 1 {
		return fmt.Sprintf("reads back in %d chunks", len(chunks))
	}
	back, err := retype.Rebind(chunks[0], t)
	if err != nil {
		return err.Error()
	}
	defer back.Release()
	if !array.Equal(back, arr) {
		return fmt.Sprintf("values differ: wrote %v, read %v", arr, back)
	}
	return ""
}

// TestStorableTypesRoundTrip is the experiment behind CheckStorable: every
// type of the grammar is written and read back with pqarrow, and the result
// must agree with CheckStorable both ways. When an arrow-go upgrade changes
// what pqarrow supports, this test says which entry to move.
func TestStorableTypesRoundTrip(t *testing.T) {
	f := func(name string, storable bool) {
		t.Helper()
		dt, err := ParseType(name)
		if err != nil {
			t.Fatalf("ParseType(%q): %v", name, err)
		}
		why := roundTrip(dt)
		if (why == "") != storable {
			t.Errorf("%s: round trip says storable=%v (%s), table says %v", name, why == "", why, storable)
		}
		// A fixed_size_list column is storable only when it is not nullable
		// (see checkNullableFixedSizeList); the one-row round trip has no nulls.
		nullable := dt.ID() != arrow.FIXED_SIZE_LIST
		if !nullable {
			if err := CheckStorable(arrow.NewSchema([]arrow.Field{{Name: "f", Type: dt, Nullable: true}}, nil)); err == nil {
				t.Errorf("%s: a nullable fixed_size_list is accepted", name)
			}
		}
		err = CheckStorable(arrow.NewSchema([]arrow.Field{{Name: "f", Type: dt, Nullable: nullable}}, nil))
		if (err == nil) != storable {
			t.Errorf("%s: CheckStorable = %v, table says storable=%v", name, err, storable)
		}
		if err != nil && !errors.Is(err, base.ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", name, err)
		}
		if testing.Verbose() {
			t.Logf("%-60s storable=%-5v %s", name, storable, why)
		}
	}
	// Storable.
	for _, name := range []string{
		"null", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
		"float16", "float32", "float64", "utf8", "large_utf8", "binary", "large_binary",
		"date32", "time32[ms]", "time64[us]", "time64[ns]",
		"timestamp[ms]", "timestamp[us]", "timestamp[ns]", "timestamp[ms, tz=UTC]",
		"timestamp[us, tz=America/New_York]", "timestamp[ns, tz=+05:30]",
		"decimal128(1, 0)", "decimal128(38, 2)", "decimal256(76, 10)", "decimal256(40, 40)",
		"fixed_size_binary[16]",
		"list<int64>", "list<int64 not null>", "large_list<utf8>", "list<list<int64>>",
		"large_list<list<float16>>", "fixed_size_list<float32>[3]", "fixed_size_list<utf8 not null>[2]",
		"list<null>", "list<bool>", "list<decimal128(5, 2)>", "list<large_utf8>",
		"map<utf8, int64>", "map<utf8, int64 not null>", "map<int32, struct<x: int64>>",
		"map<large_utf8, int64>", "map<fixed_size_binary[4], list<utf8>>",
		"struct<a: int64, b: utf8 not null>", "struct<a: int64 not null>", "struct<n: null>",
		"struct<l: list<utf8>>", "list<struct<a: int64, b: list<utf8>>>",
		"dictionary<values=utf8, indices=int32>", "dictionary<values=utf8, indices=int8>",
		"dictionary<values=utf8, indices=uint32>", "dictionary<values=utf8, indices=int64>",
		"dictionary<values=utf8, indices=uint64>", "dictionary<values=binary, indices=int16>",
		"dictionary<values=utf8, indices=int32, ordered>",
		"struct<d: dictionary<values=utf8, indices=int32>>",
	} {
		f(name, true)
	}
	// Not storable: refused by the writer, or read back as another type.
	for _, name := range []string{
		"utf8_view", "binary_view", "date64", "time32[s]", "timestamp[s]", "timestamp[s, tz=UTC]",
		"duration[s]", "duration[ms]", "duration[us]", "duration[ns]",
		"interval[month]", "interval[day_time]", "interval[month_day_nano]",
		"decimal32(9, 2)", "decimal64(18, 2)",
		"list_view<int64>", "large_list_view<int64>", "list<utf8_view>", "list<duration[s]>",
		"list<date64>", "list<time32[s]>", "struct<a: timestamp[s]>",
		"map<utf8, int64, keys_sorted>", "map<utf8, dictionary<values=utf8, indices=int32>>",
		"list<dictionary<values=utf8, indices=int32>>",
		"list<struct<d: dictionary<values=utf8, indices=int32>>>",
		"dictionary<values=int64, indices=int32>", "dictionary<values=float64, indices=int32>",
		"dictionary<values=fixed_size_binary[4], indices=int32>",
		"dictionary<values=large_utf8, indices=int32>", "dictionary<values=large_binary, indices=int32>",
		"run_end_encoded<run_ends=int32, values=utf8>",
		"dense_union<a: int32>", "sparse_union<a: int32, b: utf8>",
		"struct<>",
	} {
		f(name, false)
	}
}

func TestCheckStorableNamesThePath(t *testing.T) {
	f := func(fields []Field, want string) {
		t.Helper()
		s, err := FromFields(fields)
		if err != nil {
			t.Fatal(err)
		}
		err = CheckStorable(s)
		if err == nil || err.Error() != want {
			t.Fatalf("CheckStorable: %v\nwant: %s", err, want)
		}
	}
	f([]Field{{Name: "ok", Type: "int64"}, {Name: "u", Type: "sparse_union<a: int32, b: utf8>"}},
		`field "u": Arrow type sparse_union<a: int32, b: utf8> cannot be stored in Parquet`)
	f([]Field{{Name: "a", Type: "struct<x: int64, b: list<struct<c: duration[ms]>>>"}},
		`field "a.b.c": Arrow type duration[ms] cannot be stored in Parquet`)
	f([]Field{{Name: "t", Type: "timestamp[s]"}},
		`field "t": Arrow type timestamp[s] cannot be stored in Parquet (it reads back in milliseconds; use timestamp[ms])`)
	if err := CheckStorable(arrow.NewSchema([]arrow.Field{{Name: "d",
		Type: &arrow.Decimal128Type{Precision: 10, Scale: -2}}}, nil)); err == nil {
		t.Fatal("negative decimal scale accepted; pqarrow panics on it")
	}
}

// TestStorableCorpus checks the schema of every valid Arrow IPC stream of the
// shared corpus, and for the storable ones proves it: the file's batches go
// through a Matcher for that schema and are written to Parquet and read back.
// Each entry is "" (storable, and the data round-trips), CheckStorable's
// error (refused with the type), or "conform: " and the error with which
// Conform refuses the file's data although its schema is storable.
func TestStorableCorpus(t *testing.T) {
	dir := filepath.Join(sharedtest.Dir(t), "testdata", "arrow-ipc", "valid")
	want := map[string]string{
		"2.0.0-compression_generated_lz4.stream":           "",
		"2.0.0-compression_generated_zstd.stream":          "",
		"4.0.0-shareddict_generated_shared_dict.stream":    ``,
		"cpp-21.0.0_generated_binary.stream":               ``,
		"cpp-21.0.0_generated_binary_no_batches.stream":    ``,
		"cpp-21.0.0_generated_binary_view.stream":          `field "bv": Arrow type binary_view cannot be stored in Parquet (use binary)`,
		"cpp-21.0.0_generated_binary_zerolength.stream":    ``,
		"cpp-21.0.0_generated_custom_metadata.stream":      ``,
		"cpp-21.0.0_generated_datetime.stream":             `field "f1": Arrow type date64 cannot be stored in Parquet (it reads back as date32; use date32)`,
		"cpp-21.0.0_generated_decimal.stream":              ``,
		"cpp-21.0.0_generated_decimal256.stream":           ``,
		"cpp-21.0.0_generated_decimal32.stream":            `field "f0": Arrow type decimal32(3, 2) cannot be stored in Parquet (use decimal128)`,
		"cpp-21.0.0_generated_decimal64.stream":            `field "f0": Arrow type decimal64(3, 2) cannot be stored in Parquet (use decimal128)`,
		"cpp-21.0.0_generated_dictionary.stream":           `field "dict2": Arrow type dictionary<values=int64, indices=int16> cannot be stored in Parquet (only dictionaries of utf8 or binary keep their encoding)`,
		"cpp-21.0.0_generated_dictionary_unsigned.stream":  ``,
		"cpp-21.0.0_generated_duplicate_fieldnames.stream": `conform: field "ints": appears more than once in the batch`,
		"cpp-21.0.0_generated_duration.stream":             `field "f1": Arrow type duration[s] cannot be stored in Parquet`,
		"cpp-21.0.0_generated_extension.stream":            `field "uuids": Arrow type extension<arrow.uuid> cannot be stored in Parquet`,
		"cpp-21.0.0_generated_interval.stream":             `field "f5": Arrow type interval[month] cannot be stored in Parquet`,
		"cpp-21.0.0_generated_interval_mdn.stream":         `field "f1": Arrow type interval[month_day_nano] cannot be stored in Parquet`,
		"cpp-21.0.0_generated_large_binary.stream":         ``,
		"cpp-21.0.0_generated_list_view.stream":            `field "lv": Arrow type list_view<float32> cannot be stored in Parquet`,
		"cpp-21.0.0_generated_map.stream":                  ``,
		"cpp-21.0.0_generated_map_non_canonical.stream":    ``,
		"cpp-21.0.0_generated_nested.stream":               `field "fixedsizelist_nullable": Arrow type fixed_size_list<int32>[4] cannot be stored in Parquet when nullable (a null entry before a valid one cannot be written); declare it not null, or use list`,
		"cpp-21.0.0_generated_nested_dictionary.stream":    `field "list_dict": Arrow type dictionary<values=list<dictionary<values=utf8, indices=int8>>, indices=int8> cannot be stored in Parquet (only dictionaries of utf8 or binary keep their encoding)`,
		"cpp-21.0.0_generated_nested_large_offsets.stream": ``,
		"cpp-21.0.0_generated_null.stream":                 ``,
		"cpp-21.0.0_generated_null_trivial.stream":         ``,
		"cpp-21.0.0_generated_primitive.stream":            ``,
		"cpp-21.0.0_generated_primitive_no_batches.stream": ``,
		"cpp-21.0.0_generated_primitive_zerolength.stream": ``,
		"cpp-21.0.0_generated_recursive_nested.stream":     ``,
		"cpp-21.0.0_generated_run_end_encoded.stream":      `field "ree16_int32": Arrow type run_end_encoded<run_ends=int16, values=int32> cannot be stored in Parquet`,
		"cpp-21.0.0_generated_union.stream":                `field "sparse_1": Arrow type sparse_union<f1: int32 = 5, f2: utf8 = 7> cannot be stored in Parquet`,
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.stream"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	seen := 0
	for _, path := range files {
		name := filepath.Base(path)
		got := corpusVerdict(t, path)
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: not in the table; CheckStorable says %q", name, got)
			continue
		}
		seen++
		if w != got {
			t.Errorf("%s:\n got: %q\nwant: %q", name, got, w)
		}
	}
	if seen != len(want) {
		t.Errorf("the table has %d files, the corpus %d of them", len(want), seen)
	}
}

func corpusVerdict(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewReader(f)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer r.Release()
	if err := CheckStorable(r.Schema()); err != nil {
		return err.Error()
	}
	// Storable: prove it with the file's own data.
	var recs []arrow.RecordBatch
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		return "unreadable: " + err.Error()
	}
	// What Conform accepts for a storable topic must be writable.
	m := NewMatcher(r.Schema())
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	conformed := make([]arrow.RecordBatch, 0, len(recs))
	defer func() {
		for _, rec := range conformed {
			rec.Release()
		}
		mem.AssertSize(t, 0)
	}()
	for _, rec := range recs {
		out, err := m.Conform(rec, mem)
		if err != nil {
			return "conform: " + err.Error()
		}
		conformed = append(conformed, out)
	}
	return roundTripRecords(r.Schema(), conformed)
}

// roundTripRecords writes recs to Parquet with pqarrow, reads them back, and
// reports the first difference, or "" if there is none.
func roundTripRecords(sc *arrow.Schema, recs []arrow.RecordBatch) (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("round trip: panic: %v", r)
		}
	}()
	mem := memory.NewGoAllocator()
	tbl := array.NewTableFromRecords(sc, recs)
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 1<<20, parquet.NewWriterProperties(),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		return "round trip: write: " + err.Error()
	}
	got, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(buf.Bytes()), nil, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		return "round trip: read: " + err.Error()
	}
	defer got.Release()
	if got.NumRows() != tbl.NumRows() || got.NumCols() != tbl.NumCols() {
		return fmt.Sprintf("round trip: %d rows x %d columns came back as %d x %d",
			tbl.NumRows(), tbl.NumCols(), got.NumRows(), got.NumCols())
	}
	for i := 0; i < int(tbl.NumCols()); i++ {
		f := sc.Field(i)
		if gt := got.Schema().Field(i).Type; !EqualIgnoringNames(gt, f.Type) {
			return fmt.Sprintf("round trip: field %q: %s came back as %s", f.Name, FormatType(f.Type), FormatType(gt))
		}
		if tbl.NumRows() == 0 {
			continue
		}
		want, err := array.Concatenate(tbl.Column(i).Data().Chunks(), mem)
		if err != nil {
			return err.Error()
		}
		defer want.Release()
		back, err := array.Concatenate(got.Column(i).Data().Chunks(), mem)
		if err != nil {
			return err.Error()
		}
		defer back.Release()
		rb, err := retype.Rebind(back, f.Type)
		if err != nil {
			return err.Error()
		}
		defer rb.Release()
		if !array.Equal(want, rb) {
			// Parquet cannot keep values under a null struct entry: they
			// come back null. Compare what a reader sees instead.
			wj, err1 := want.MarshalJSON()
			bj, err2 := rb.MarshalJSON()
			if err1 != nil || err2 != nil || !bytes.Equal(wj, bj) {
				return fmt.Sprintf("round trip: field %q: values differ:\n wrote %s\n  read %s", f.Name, wj, bj)
			}
		}
	}
	return ""
}
