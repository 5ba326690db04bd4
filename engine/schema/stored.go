package schema

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/storage/segment"
)

// NumSystemColumns is how many system columns come before the payload in a
// stored row: _id, _ts, _event, _sub, _tenant. The columns themselves are
// the storage format's, defined by segment.SystemFields.
const NumSystemColumns = segment.NumSystemFields

// Stored returns the schema of stored rows: the system columns (see
// segment.SystemFields), then the payload fields in order. The payload schema's
// metadata is kept. A nil payload gives the system columns alone.
func Stored(payload *arrow.Schema) *arrow.Schema {
	if payload == nil {
		return arrow.NewSchema(segment.SystemFields(), nil)
	}
	fields := make([]arrow.Field, 0, NumSystemColumns+payload.NumFields())
	fields = append(fields, segment.SystemFields()...)
	fields = append(fields, payload.Fields()...)
	md := payload.Metadata()
	return arrow.NewSchema(fields, &md)
}
