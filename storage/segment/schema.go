package segment

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

// NumSystemFields is the number of system columns that start every stored
// schema.
const NumSystemFields = 5

// SystemFields returns the system columns every stored schema starts with,
// in order: _id, _ts, _event, _sub, _tenant.
func SystemFields() []arrow.Field {
	return []arrow.Field{
		{Name: base.ColID, Type: arrow.PrimitiveTypes.Int64},
		{Name: base.ColTS, Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: base.ColEvent, Type: arrow.BinaryTypes.String},
		{Name: base.ColSub, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: base.ColTenant, Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	}
}

// CheckSchema reports, as an error wrapping base.ErrInvalid, whether s does
// not start with the system columns (same names, types and nullability).
func CheckSchema(s *arrow.Schema) error {
	if s == nil {
		return base.Errorf(base.ErrInvalid, "segment: nil schema")
	}
	sys := SystemFields()
	if s.NumFields() < len(sys) {
		return base.Errorf(base.ErrInvalid, "segment: schema has %d fields, want at least the %d system columns", s.NumFields(), len(sys))
	}
	for i, want := range sys {
		got := s.Field(i)
		if got.Name != want.Name || !arrow.TypeEqual(got.Type, want.Type) || got.Nullable != want.Nullable {
			return base.Errorf(base.ErrInvalid, "segment: field %d is %s %s (nullable %t), want %s %s (nullable %t)",
				i, got.Name, got.Type, got.Nullable, want.Name, want.Type, want.Nullable)
		}
	}
	return nil
}
