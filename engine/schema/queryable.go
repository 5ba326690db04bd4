package schema

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

// CheckQueryable reports whether DuckDB (duckdb-go v2.10506.0, DuckDB
// 1.5.6) can query every field of s as ducktail shows it, a topic's
// unflushed tail through DuckDB's Arrow scan and its segments through
// read_parquet, with the same values either way. The error wraps
// base.ErrInvalid and names the first offending field by path. Refused:
//   - float16 and decimal256: DuckDB's Arrow scan has no such types, and
//     registering the tail's schema failed, which made every SQL query of
//     the server fail, whatever stream it read;
//   - a struct with two fields of one name: DuckDB renames the second when
//     it reads a segment (b, b_1) and the column types change, so a query
//     answered differently before and after a flush.
//
// CheckStorable is about Parquet; a topic must pass both.
func CheckQueryable(s *arrow.Schema) error {
	for _, f := range s.Fields() {
		if err := checkQueryable(f.Name, f.Type); err != nil {
			return err
		}
	}
	return nil
}

func checkQueryable(path string, t arrow.DataType) error {
	switch t.ID() {
	case arrow.FLOAT16:
		return base.Errorf(base.ErrInvalid, "field %q: Arrow type float16 cannot be queried with DuckDB SQL; use float32", path)
	case arrow.DECIMAL256:
		return base.Errorf(base.ErrInvalid, "field %q: Arrow type %s cannot be queried with DuckDB SQL; use decimal128 (precision up to 38)",
			path, FormatType(t))
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST:
		return checkQueryable(path, t.(arrow.ListLikeType).Elem())
	case arrow.MAP:
		m := t.(*arrow.MapType)
		if err := checkQueryable(path, m.KeyType()); err != nil {
			return err
		}
		return checkQueryable(path, m.ItemType())
	case arrow.STRUCT:
		seen := make(map[string]bool)
		for _, f := range t.(*arrow.StructType).Fields() {
			if seen[f.Name] {
				return base.Errorf(base.ErrInvalid, "field %q: struct field %q is declared more than once", path, f.Name)
			}
			seen[f.Name] = true
			if err := checkQueryable(path+"."+f.Name, f.Type); err != nil {
				return err
			}
		}
	case arrow.DICTIONARY:
		return checkQueryable(path, t.(*arrow.DictionaryType).ValueType)
	}
	return nil
}
