package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const arrowType = "application/vnd.apache.arrow.stream"

// demoSchema returns the payload schema of the embedded default topic
// demo/events.
func demoSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64},
		{Name: "event", Type: arrow.BinaryTypes.String},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
}

// demoRow is one row of demo/events as a client sends it.
type demoRow struct {
	Timestamp int64
	Event     string
	Value     float64
}

// arrowBody encodes batches of rows as one Arrow IPC stream, one record
// batch per element of batches.
func arrowBody(batches ...[]demoRow) ([]byte, error) {
	var buf bytes.Buffer
	sc := demoSchema()
	w := ipc.NewWriter(&buf, ipc.WithSchema(sc))
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, rows := range batches {
		ts := b.Field(0).(*array.Int64Builder)
		ev := b.Field(1).(*array.StringBuilder)
		val := b.Field(2).(*array.Float64Builder)
		for _, r := range rows {
			ts.Append(r.Timestamp)
			ev.Append(r.Event)
			val.Append(r.Value)
		}
		rec := b.NewRecordBatch()
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ingestAck is the 200 answer of POST /ingest/{token}.
type ingestAck struct {
	Topic   string `json:"topic"`
	Rows    int64  `json:"rows"`
	FirstID int64  `json:"first_id"`
	LastID  int64  `json:"last_id"`
}

// ingest posts batches with tok and returns the status, the ack (on 200)
// and the raw answer. Transport errors are returned.
func (p *proc) ingest(tok string, hdr map[string]string, batches ...[]demoRow) (int, ingestAck, []byte, error) {
	body, err := arrowBody(batches...)
	if err != nil {
		return 0, ingestAck{}, nil, err
	}
	h := map[string]string{"Content-Type": arrowType}
	for k, v := range hdr {
		h[k] = v
	}
	code, b, err := p.do(http.MethodPost, "/ingest/"+tok, h, body)
	if err != nil {
		return 0, ingestAck{}, nil, err
	}
	var ack ingestAck
	if code == http.StatusOK {
		if err := json.Unmarshal(b, &ack); err != nil {
			return code, ack, b, fmt.Errorf("ingest answer %q: %w", b, err)
		}
	}
	return code, ack, b, nil
}

// mustIngest posts batches with the demo token and fails the test unless the
// answer is 200 with the right row count and id range.
func (p *proc) mustIngest(batches ...[]demoRow) ingestAck {
	p.t.Helper()
	code, ack, b, err := p.ingest(p.token, nil, batches...)
	if err != nil || code != http.StatusOK {
		p.t.Fatalf("ingest: status %d, err %v: %s", code, err, b)
	}
	var n int64
	for _, rows := range batches {
		n += int64(len(rows))
	}
	if ack.Topic != "demo/events" || ack.Rows != n || ack.LastID-ack.FirstID+1 != n {
		p.t.Fatalf("ingest of %d rows: ack %+v", n, ack)
	}
	return ack
}

// storedCols are the columns of a record batch of stored demo/events rows
// (Arrow output): _id, _ts, _event, _sub, _tenant, timestamp, event, value.
type storedCols struct {
	id     *array.Int64
	ts     *array.Timestamp
	event  *array.String
	tenant *array.Uint32
	pts    *array.Int64
	pevent *array.String
	value  *array.Float64
}

// checkStoredSchema checks the stored schema of demo/events.
func checkStoredSchema(s *arrow.Schema) error {
	want := []string{"_id", "_ts", "_event", "_sub", "_tenant", "timestamp", "event", "value"}
	if s.NumFields() != len(want) {
		return fmt.Errorf("stored schema %v, want the columns %v", s, want)
	}
	for i, name := range want {
		if s.Field(i).Name != name {
			return fmt.Errorf("stored schema column %d is %q, want %q", i, s.Field(i).Name, name)
		}
	}
	if ts, ok := s.Field(1).Type.(*arrow.TimestampType); !ok || ts.Unit != arrow.Millisecond || ts.TimeZone != "UTC" {
		return fmt.Errorf("_ts is %v, want timestamp[ms, tz=UTC]", s.Field(1).Type)
	}
	return nil
}

func storedColumns(rec arrow.RecordBatch) (storedCols, error) {
	var c storedCols
	var ok [7]bool
	c.id, ok[0] = rec.Column(0).(*array.Int64)
	c.ts, ok[1] = rec.Column(1).(*array.Timestamp)
	c.event, ok[2] = rec.Column(2).(*array.String)
	c.tenant, ok[3] = rec.Column(4).(*array.Uint32)
	c.pts, ok[4] = rec.Column(5).(*array.Int64)
	c.pevent, ok[5] = rec.Column(6).(*array.String)
	c.value, ok[6] = rec.Column(7).(*array.Float64)
	for _, o := range ok {
		if !o {
			return c, fmt.Errorf("unexpected column types in %v", rec.Schema())
		}
	}
	return c, nil
}

// scanArrow reads every event of demo/events in Arrow format, in pages of
// pageRows from from=, calling fn with the columns of each record batch;
// it fails the test on any error and returns the number of rows read.
func (p *proc) scanArrow(pageRows int, fn func(storedCols, int) error) int64 {
	p.t.Helper()
	var n int64
	for page := 0; page < 10_000; page++ {
		path := fmt.Sprintf("/demo/events?from=%d&limit=%d", n, pageRows)
		req, err := http.NewRequest(http.MethodGet, p.url+path, nil)
		if err != nil {
			p.t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+p.adminKey)
		req.Header.Set("Accept", arrowType)
		got, err := p.scanPage(req, fn)
		if err != nil {
			p.t.Fatalf("GET %s: %v", path, err)
		}
		if got == 0 {
			return n
		}
		n += got
	}
	p.t.Fatalf("scanArrow: more than 10000 pages")
	return 0
}

func (p *proc) scanPage(req *http.Request, fn func(storedCols, int) error) (int64, error) {
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	r, err := ipc.NewReader(resp.Body)
	if err != nil {
		return 0, err
	}
	defer r.Release()
	if err := checkStoredSchema(r.Schema()); err != nil {
		return 0, err
	}
	var n int64
	for r.Next() {
		rec := r.RecordBatch()
		c, err := storedColumns(rec)
		if err != nil {
			return n, err
		}
		if err := fn(c, int(rec.NumRows())); err != nil {
			return n, err
		}
		n += rec.NumRows()
	}
	return n, r.Err()
}

// jsonEvent is an event of a JSON listing (SPEC 2).
type jsonEvent struct {
	ID        int64  `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Event     string `json:"event"`
	Tenant    *int64 `json:"tenant"`
	Data      struct {
		Timestamp int64   `json:"timestamp"`
		Event     string  `json:"event"`
		Value     float64 `json:"value"`
	} `json:"data"`
}

// readJSON lists demo/events as JSON with the given query string.
func (p *proc) readJSON(query string) []jsonEvent {
	p.t.Helper()
	body := p.mustDo(http.StatusOK, http.MethodGet, "/demo/events"+query, p.admin(), nil)
	var evs []jsonEvent
	if err := json.Unmarshal(body, &evs); err != nil {
		p.t.Fatalf("GET /demo/events%s: %v: %.300s", query, err, body)
	}
	return evs
}
