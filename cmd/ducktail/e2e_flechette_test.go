package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// flechetteTopic is the topic the script clients/js/test/ingest.mjs writes
// to; its TOPIC_FIELDS must have these names and types.
const flechetteTopic = "web/flechette"

var flechetteFields = []struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}{
	{"seq", "int64", false},
	{"i8", "int8", true}, {"i16", "int16", true}, {"i32", "int32", true}, {"i64", "int64", true},
	{"u8", "uint8", true}, {"u16", "uint16", true}, {"u32", "uint32", true}, {"u64", "uint64", true},
	{"f32", "float32", true}, {"f64", "float64", true}, {"flag", "bool", true},
	{"name", "utf8", true}, {"note", "utf8", true}, {"blob", "binary", true},
	{"at", "timestamp[ms]", true}, {"at_us", "timestamp[us, tz=UTC]", true}, {"at_ns", "timestamp[ns]", true},
	{"day", "date32", true}, {"nums", "list<int64>", true}, {"words", "list<utf8>", true},
	{"kind", "dictionary<values=utf8, indices=int32>", true},
}

// TestFlechetteIngest sends Arrow IPC streams built by the browser Arrow
// library flechette (directly, and through the client in clients/js) to a
// real server and checks that every row reads back with exactly the values
// sent, before and after a flush to Parquet.
func TestFlechetteIngest(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: install Node.js (>= 18) to run the flechette end-to-end test")
	}
	jsDir, err := filepath.Abs(filepath.Join("..", "..", "clients", "js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "@uwdata", "flechette", "package.json")); err != nil {
		t.Skipf("flechette is not installed in %s: run `npm ci --prefix clients/js` from the repository root", jsDir)
	}

	p := startProc(t, t.TempDir(), "")
	topic, err := json.Marshal(map[string]any{"name": flechetteTopic, "fields": flechetteFields})
	if err != nil {
		t.Fatal(err)
	}
	p.mustDo(http.StatusCreated, http.MethodPost, "/_/topics", p.admin(), topic)
	var tok struct {
		Token string `json:"token"`
	}
	b := p.mustDo(http.StatusOK, http.MethodPost, "/_/tokens", p.admin(), []byte(`{"topic":"`+flechetteTopic+`","ttl":"1h"}`))
	if err := json.Unmarshal(b, &tok); err != nil || len(tok.Token) != 64 {
		t.Fatalf("POST /_/tokens: %v: %s", err, b)
	}

	var next int64
	var sent []map[string]any // every row sent, in order; id = index
	for _, mode := range []string{"direct", "client"} {
		out := runIngestScript(t, node, jsDir, p.url, tok.Token, mode)
		if len(out.acks) == 0 {
			t.Fatalf("mode %s: no acks", mode)
		}
		var n int64
		for i, a := range out.acks {
			if a.Topic != flechetteTopic || a.FirstID != next+n || a.LastID != a.FirstID+a.Rows-1 || a.Rows <= 0 {
				t.Fatalf("mode %s: ack %d is %+v, want topic %s and first_id %d (ids dense across requests)", mode, i, a, flechetteTopic, next+n)
			}
			n += a.Rows
		}
		if n != int64(len(out.rows)) {
			t.Fatalf("mode %s: acks count %d rows, the script reports %d sent", mode, n, len(out.rows))
		}
		next += n
		sent = append(sent, out.rows...)
		t.Logf("mode %s: %d requests, %d rows", mode, len(out.acks), n)
	}

	checkFlechetteRows(t, p, sent)
	p.flush()
	checkFlechetteRows(t, p, sent) // now from Parquet segments

	// A table with a field the topic does not have is refused, naming it,
	// and stores nothing.
	out := runIngestScript(t, node, jsDir, p.url, tok.Token, "extra")
	var refusal struct {
		Status int `json:"status"`
		Body   struct {
			Error string `json:"error"`
		} `json:"body"`
	}
	if err := json.Unmarshal(out.refusal, &refusal); err != nil {
		t.Fatalf("mode extra: refusal %s: %v", out.refusal, err)
	}
	if refusal.Status != http.StatusBadRequest || !strings.Contains(refusal.Body.Error, `"surprise"`) {
		t.Fatalf("mode extra: answer %s, want 400 with an error naming the field \"surprise\"", out.refusal)
	}
	got := p.mustDo(http.StatusOK, http.MethodPost, "/sql", p.admin(), []byte(`select count(*) as n from "web"."flechette"`))
	if want := fmt.Sprintf(`[{"n":%d}]`, len(sent)); strings.TrimSpace(string(got)) != want {
		t.Fatalf("after the refusal: %s, want %s", got, want)
	}
}

// ingestOutput is what ingest.mjs printed.
type ingestOutput struct {
	acks    []ingestAck
	rows    []map[string]any // the summary rows, numbers as json.Number
	refusal json.RawMessage
}

// runIngestScript runs `node test/ingest.mjs url token mode` in jsDir, at
// most 60 s, and parses its output.
func runIngestScript(t *testing.T, node, jsDir, url, token, mode string) ingestOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("test", "ingest.mjs"), url, token, mode)
	cmd.Dir = jsDir
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node ingest.mjs %s: %v (timed out: %v)\nstderr:\n%s\nstdout:\n%s", mode, err, ctx.Err() != nil,
			tail(stderr.String(), 4000), tail(stdout.String(), 2000))
	}
	var out ingestOutput
	summary := false
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct {
			Ack     *ingestAck      `json:"ack"`
			Refusal json.RawMessage `json:"refusal"`
			Summary *struct {
				Mode string            `json:"mode"`
				Rows []json.RawMessage `json:"rows"`
			} `json:"summary"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("node ingest.mjs %s: output line %.200q: %v", mode, sc.Text(), err)
		}
		switch {
		case line.Ack != nil:
			out.acks = append(out.acks, *line.Ack)
		case line.Refusal != nil:
			out.refusal = line.Refusal
		case line.Summary != nil:
			summary = true
			for _, raw := range line.Summary.Rows {
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.UseNumber()
				var row map[string]any
				if err := dec.Decode(&row); err != nil {
					t.Fatalf("node ingest.mjs %s: summary row %.200s: %v", mode, raw, err)
				}
				out.rows = append(out.rows, row)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !summary {
		t.Fatalf("node ingest.mjs %s printed no summary line; stdout:\n%s", mode, tail(stdout.String(), 2000))
	}
	return out
}

// checkFlechetteRows reads the whole topic as JSON and compares every row
// with what the script sent; float NaN and infinities (null in JSON) are
// checked through SQL.
func checkFlechetteRows(t *testing.T, p *proc, sent []map[string]any) {
	t.Helper()
	path := fmt.Sprintf("/web/flechette?limit=%d", len(sent)+10)
	body := p.mustDo(http.StatusOK, http.MethodGet, path, p.admin(), nil)
	var evs []struct {
		ID   json.Number                `json:"id"`
		Data map[string]json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&evs); err != nil {
		t.Fatalf("GET %s: %v: %.300s", path, err, body)
	}
	if len(evs) != len(sent) {
		t.Fatalf("GET %s: %d events, want %d", path, len(evs), len(sent))
	}
	var special []string // "id field value" of NaN and infinities sent
	failures := 0
	for i, ev := range evs {
		if ev.ID.String() != strconv.Itoa(i) {
			t.Fatalf("event %d has id %s: ids are not dense and in order", i, ev.ID)
		}
		for _, f := range flechetteFields {
			want := sent[i][f.Name]
			got, ok := ev.Data[f.Name]
			if !ok {
				t.Fatalf("event %d: data has no field %q: %v", i, f.Name, ev.Data)
			}
			if s, ok := want.(string); ok && strings.HasPrefix(f.Type, "float") && (s == "NaN" || s == "Infinity" || s == "-Infinity") {
				special = append(special, fmt.Sprintf("%d %s %s", i, f.Name, s))
			}
			if err := compareJSONValue(f.Type, want, got); err != nil {
				failures++
				if failures <= 10 {
					t.Errorf("event %d field %s (%s): %v", i, f.Name, f.Type, err)
				}
			}
		}
		if len(ev.Data) != len(flechetteFields) {
			t.Errorf("event %d: data has %d fields, want %d: %v", i, len(ev.Data), len(flechetteFields), ev.Data)
		}
	}
	if failures > 10 {
		t.Errorf("... %d mismatches in all", failures)
	}

	// NaN and infinities: JSON shows them as null, DuckDB as nan/inf.
	q := `select _id, f, cast(v as varchar) as v from (
	        select _id, 'f32' as f, cast(f32 as double) as v from "web"."flechette" union all
	        select _id, 'f64', f64 from "web"."flechette")
	      where isnan(v) or isinf(v) order by _id, f`
	var rows []struct {
		ID int64  `json:"_id"`
		F  string `json:"f"`
		V  string `json:"v"`
	}
	if err := json.Unmarshal(p.sql(q), &rows); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		v := map[string]string{"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[strings.ToLower(r.V)]
		got = append(got, fmt.Sprintf("%d %s %s", r.ID, r.F, v))
	}
	if strings.Join(got, "\n") != strings.Join(special, "\n") {
		t.Errorf("NaN and infinities read back through SQL:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(special, "\n"))
	}
}

// Timestamp layouts of the JSON output per unit (RFC 3339 in UTC).
var tsLayouts = map[string]struct {
	layout string
	toTime func(int64) time.Time
}{
	"ms": {"2006-01-02T15:04:05.000Z07:00", time.UnixMilli},
	"us": {"2006-01-02T15:04:05.000000Z07:00", time.UnixMicro},
	"ns": {"2006-01-02T15:04:05.000000000Z07:00", func(n int64) time.Time { return time.Unix(0, n) }},
}

// compareJSONValue checks the JSON got of a value of ducktail type typ
// against the canonical form want the script reported (see ingest.mjs).
func compareJSONValue(typ string, want any, got json.RawMessage) error {
	got = bytes.TrimSpace(got)
	if want == nil {
		if string(got) != "null" {
			return fmt.Errorf("sent null, read %s", got)
		}
		return nil
	}
	mismatch := func() error { return fmt.Errorf("sent %v, read %s", want, got) }
	str := func() (string, error) {
		var s string
		err := json.Unmarshal(got, &s)
		return s, err
	}
	switch {
	case strings.HasPrefix(typ, "int") || strings.HasPrefix(typ, "uint"):
		// Exact integers: the JSON number text equals the decimal sent.
		if s, ok := want.(string); !ok || string(got) != s {
			return mismatch()
		}
	case typ == "float32" || typ == "float64":
		if s, ok := want.(string); ok { // NaN, ±Infinity: null in JSON
			if string(got) != "null" {
				return fmt.Errorf("sent %s, read %s (want null)", s, got)
			}
			return nil
		}
		w, err1 := want.(json.Number).Float64()
		g, err2 := strconv.ParseFloat(string(got), 64)
		if err1 != nil || err2 != nil {
			return mismatch()
		}
		if typ == "float32" {
			if float32(w) != float32(g) {
				return mismatch()
			}
		} else if math.Float64bits(w) != math.Float64bits(g) {
			return mismatch()
		}
	case typ == "bool":
		if b, ok := want.(bool); !ok || string(got) != strconv.FormatBool(b) {
			return mismatch()
		}
	case typ == "utf8" || typ == "binary" || strings.HasPrefix(typ, "dictionary<values=utf8"):
		// binary: both sides are standard base64.
		s, err := str()
		if w, ok := want.(string); !ok || err != nil || s != w {
			return mismatch()
		}
	case strings.HasPrefix(typ, "timestamp["):
		l, ok := tsLayouts[strings.TrimRight(strings.SplitN(typ[len("timestamp["):], ",", 2)[0], "]")]
		ws, _ := want.(string)
		n, err := strconv.ParseInt(ws, 10, 64)
		s, err2 := str()
		if !ok || err != nil || err2 != nil || s != l.toTime(n).UTC().Format(l.layout) {
			return fmt.Errorf("sent %v, read %s, want %q", want, got, l.toTime(n).UTC().Format(l.layout))
		}
	case typ == "date32":
		d, err := want.(json.Number).Int64()
		s, err2 := str()
		if err != nil || err2 != nil || s != time.Unix(d*86400, 0).UTC().Format("2006-01-02") {
			return mismatch()
		}
	case strings.HasPrefix(typ, "list<") && strings.HasSuffix(typ, ">"):
		elem := typ[len("list<") : len(typ)-1]
		ws, ok := want.([]any)
		var gs []json.RawMessage
		if !ok || json.Unmarshal(got, &gs) != nil || len(gs) != len(ws) {
			return mismatch()
		}
		for i := range ws {
			if err := compareJSONValue(elem, ws[i], gs[i]); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("the test does not know type %s", typ)
	}
	return nil
}
