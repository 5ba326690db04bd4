package schema

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

// NumSystemColumns is how many system columns come before the payload in a
// stored row: _id, _ts, _event, _sub, _tenant.
const NumSystemColumns = 5

// SystemFields returns the system columns of every stored row (SPEC 2), in
// order: _id int64 not null, _ts timestamp[ms, tz=UTC] not null, _event utf8
// not null, _sub utf8, _tenant uint32. The slice is new on every call.
func SystemFields() []arrow.Field {
	return []arrow.Field{
		{Name: base.ColID, Type: arrow.PrimitiveTypes.Int64},
		{Name: base.ColTS, Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: base.ColEvent, Type: arrow.BinaryTypes.String},
		{Name: base.ColSub, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: base.ColTenant, Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	}
}

// Stored returns the schema of stored rows: the system columns (see
// SystemFields), then the payload fields in order. The payload schema's
// metadata is kept. A nil payload gives the system columns alone.
func Stored(payload *arrow.Schema) *arrow.Schema {
	if payload == nil {
		return arrow.NewSchema(SystemFields(), nil)
	}
	fields := make([]arrow.Field, 0, NumSystemColumns+payload.NumFields())
	fields = append(fields, SystemFields()...)
	fields = append(fields, payload.Fields()...)
	md := payload.Metadata()
	return arrow.NewSchema(fields, &md)
}
