package segmenttest

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/segment"
)

// EventSchema returns the stored schema of an untyped event stream: the
// system columns, _content_type (utf8) and _data (binary).
func EventSchema() *arrow.Schema {
	fields := append(segment.SystemFields(),
		arrow.Field{Name: base.ColContentType, Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: base.ColData, Type: arrow.BinaryTypes.Binary, Nullable: true},
	)
	return arrow.NewSchema(fields, nil)
}

// EventData returns the _data of event id in EventBatches: a JSON body of
// about 100 bytes that differs from row to row.
func EventData(id int64) []byte {
	return fmt.Appendf(nil, `{"user":"u%06d","page":"/products/%d","ref":"https://example.com/?q=%x","n":%d}`,
		id%50_000, id%977, id*2654435761%1_000_003, id)
}

// EventBatches returns rows rows of EventSchema, ids firstID.., in records
// of batch rows: _ts as in TS, _event "view" or "click", _content_type
// application/json, _data EventData. The caller releases the records.
func EventBatches(mem memory.Allocator, firstID, rows, batch int64) []arrow.RecordBatch {
	return build(mem, EventSchema(), firstID, rows, batch, func(b *array.RecordBuilder, id int64) {
		if id%5 == 0 {
			b.Field(2).(*array.StringBuilder).Append("click")
		} else {
			b.Field(2).(*array.StringBuilder).Append("view")
		}
		b.Field(4).(*array.Uint32Builder).AppendNull()
		b.Field(5).(*array.StringBuilder).Append("application/json")
		b.Field(6).(*array.BinaryBuilder).Append(EventData(id))
	})
}
