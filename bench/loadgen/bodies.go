package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// demoSchema is the schema of ducktail's demo topic demo/events.
func demoSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "event", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
}

// body is one pre-built request body.
type body struct {
	data []byte
	rows int64
}

// demoStream encodes rows demo rows as an Arrow IPC stream of one batch.
// variant changes the values so that variants differ byte for byte.
func demoStream(rows, variant int) ([]byte, error) {
	eventNames := [...]string{"click", "view", "scroll", "purchase", "signup", "page_view", "add_to_cart", "search"}
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, demoSchema())
	defer b.Release()
	ts := b.Field(0).(*array.Int64Builder)
	ev := b.Field(1).(*array.StringBuilder)
	val := b.Field(2).(*array.Float64Builder)
	ts.Reserve(rows)
	ev.Reserve(rows)
	val.Reserve(rows)
	base := int64(1_700_000_000_000) + int64(variant)*1_000_000
	for i := range rows {
		ts.Append(base + int64(i))
		ev.Append(eventNames[(i*7+variant)%len(eventNames)])
		val.Append(float64(variant)*0.5 + float64(i)*1.25)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("cannot encode the demo batch: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("cannot close the demo stream: %w", err)
	}
	return buf.Bytes(), nil
}

// sizedBody returns a demo stream of about target bytes: within 2% when the
// target holds more than a few rows, and never with fewer than one row.
func sizedBody(target, variant int) (body, error) {
	if target <= 0 {
		return body{}, fmt.Errorf("-body: %d is not a positive size", target)
	}
	rows := max(1, target/26) // about 26 bytes a row: 8 + 8 + 4 + ~6
	var best []byte
	bestRows := 0
	for range 8 {
		data, err := demoStream(rows, variant)
		if err != nil {
			return body{}, err
		}
		if best == nil || abs(len(data)-target) < abs(len(best)-target) {
			best, bestRows = data, rows
		}
		if abs(len(data)-target) <= target/100 {
			break
		}
		next := max(1, int(int64(rows)*int64(target)/int64(len(data))))
		if next == rows {
			if len(data) > target {
				next--
			} else {
				next++
			}
			if next < 1 {
				break
			}
		}
		rows = next
	}
	return body{data: best, rows: int64(bestRows)}, nil
}

// buildBodies returns n variants of about size bytes each: Arrow IPC streams
// of the demo schema for the Arrow content type, else JSON objects of
// exactly size bytes (one event each, for Pipet-style streams).
func buildBodies(size, n int, contentType string) ([]body, error) {
	if n < 1 {
		return nil, fmt.Errorf("-variants: %d is below 1", n)
	}
	out := make([]body, n)
	if !strings.HasPrefix(contentType, "application/vnd.apache.arrow.stream") {
		for v := range out {
			head := fmt.Sprintf(`{"variant":%d,"pad":"`, v)
			pad := max(size-len(head)-2, 0)
			out[v] = body{data: []byte(head + strings.Repeat("x", pad) + `"}`), rows: 1}
		}
		return out, nil
	}
	for v := range out {
		b, err := sizedBody(size, v)
		if err != nil {
			return nil, err
		}
		out[v] = b
	}
	return out, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
