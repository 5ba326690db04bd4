package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/ducktail/ducktail/internal/sharedtest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/engine/schema"
	"github.com/ducktail/ducktail/server/encode"
)

// readStream reads an IPC stream with arrow-go's own reader: the reference.
func readStream(t *testing.T, b []byte) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	rd, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	var recs []arrow.RecordBatch
	for rd.Next() {
		r := rd.RecordBatch()
		r.Retain()
		recs = append(recs, r)
	}
	if rd.Err() != nil {
		t.Fatal(rd.Err())
	}
	return rd.Schema(), recs
}

// column concatenates column i of recs (nil for no rows).
func column(t *testing.T, recs []arrow.RecordBatch, i int) arrow.Array {
	t.Helper()
	var parts []arrow.Array
	for _, r := range recs {
		if r.NumRows() > 0 {
			parts = append(parts, r.Column(i))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	out, err := array.Concatenate(parts, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// TestValidCorpus ingests every valid stream of the Arrow project's
// integration corpus into a topic created with its own schema and reads it
// back, from the tail and after a flush, equal to what arrow-go reads from
// the file. A schema Parquet cannot hold must be refused at creation with a
// 400 that names the type.
func TestValidCorpus(t *testing.T) {
	dir := filepath.Join(sharedtest.Dir(t), "testdata", "arrow-ipc", "valid")
	files, _ := filepath.Glob(filepath.Join(dir, "*.stream"))
	if len(files) == 0 {
		t.Skip("no corpus files")
	}
	ts := startServer(t)
	type result struct{ file, outcome string }
	var results []result
	accepted := 0
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".stream")
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc, want := readStream(t, body)
		var desc struct {
			Batches []struct {
				Count int64 `json:"count"`
			} `json:"batches"`
		}
		if js, err := os.ReadFile(strings.TrimSuffix(f, ".stream") + ".json"); err == nil {
			json.Unmarshal(js, &desc)
		}
		var wantRows int64
		for _, b := range desc.Batches {
			wantRows += b.Count
		}
		var gotRef int64
		for _, r := range want {
			gotRef += r.NumRows()
		}
		if gotRef != wantRows {
			t.Fatalf("%s: arrow-go reads %d rows, the JSON describes %d", base, gotRef, wantRows)
		}

		name := "corpus/" + strings.Trim(nonName.ReplaceAllString(strings.ToLower(base), "-"), "-")
		name = name[:min(len(name), len("corpus/")+63)]
		r := ts.admin("POST", "/_/topics?name="+name, body, "Content-Type", arrowStreamType)
		if r.code == 400 {
			msg := r.errorText(t)
			if !strings.Contains(msg, "field") {
				t.Errorf("%s: refused without naming a field: %s", base, msg)
			}
			results = append(results, result{base, "refused: " + msg})
			continue
		}
		if r.code != 201 {
			t.Errorf("%s: create topic: %d %s", base, r.code, r.body)
			continue
		}
		tok := ts.token(name, "", 0)
		r = ts.ingest(tok, body)
		var ack struct {
			Rows int64 `json:"rows"`
		}
		if r.code != 200 {
			t.Errorf("%s: ingest: %d %s", base, r.code, r.body)
			continue
		}
		r.json(t, &ack)
		if ack.Rows != wantRows {
			t.Errorf("%s: ingested %d rows, want %d", base, ack.Rows, wantRows)
			continue
		}
		failed := false
		check := func(stage string) {
			r := ts.admin("GET", "/"+name+"?limit=1000000", nil, "Accept", arrowStreamType)
			if r.code != 200 {
				t.Errorf("%s %s: read: %d %s", base, stage, r.code, r.body)
				failed = true
				return
			}
			gotSchema, got := readStream(t, r.body)
			const sys = 5
			if gotSchema.NumFields() != sys+sc.NumFields() {
				t.Errorf("%s %s: read schema has %d fields, want %d+%d", base, stage, gotSchema.NumFields(), sys, sc.NumFields())
				return
			}
			var n int64
			for _, g := range got {
				n += g.NumRows()
			}
			if n != wantRows {
				t.Errorf("%s %s: read %d rows, want %d", base, stage, n, wantRows)
				return
			}
			for i := 0; i < sc.NumFields(); i++ {
				w, g := column(t, want, i), column(t, got, sys+i)
				if w == nil && g == nil {
					continue
				}
				if w == nil || g == nil || !sameValues(w, g) {
					t.Errorf("%s %s: field %q differs:\nwant %v %v\n got %v %v", base, stage, sc.Field(i).Name,
						w.DataType(), w, g.DataType(), g)
					failed = true
				}
				if w != nil {
					w.Release()
				}
				if g != nil {
					g.Release()
				}
			}
			for _, g := range got {
				g.Release()
			}
		}
		check("tail")
		if r := ts.admin("POST", "/_/flush", nil); r.code != 200 {
			t.Fatalf("flush: %d %s", r.code, r.body)
		}
		check("segment")
		// SQL sees the topic too; a topic DuckDB cannot scan used to make
		// every query of the server fail, so ask for one more thing.
		account, stream, _ := strings.Cut(name, "/")
		q := fmt.Sprintf(`select count(*) n, (select 1) one from "%s"."%s"`, account, stream)
		if r := ts.admin("POST", "/sql", []byte(q)); r.code != 200 {
			t.Errorf("%s: SQL: %d %s", base, r.code, r.body)
			failed = true
		} else {
			var rows []struct{ N, One int64 }
			if r.json(t, &rows); len(rows) != 1 || rows[0].N != wantRows || rows[0].One != 1 {
				t.Errorf("%s: SQL: %s, want %d rows", base, r.body, wantRows)
				failed = true
			}
		}
		if !failed {
			accepted++
			results = append(results, result{base, "round-trips"})
		}
		for _, w := range want {
			w.Release()
		}
	}
	for _, r := range results {
		t.Logf("%-50s %s", r.file, r.outcome)
	}
	if accepted == 0 {
		t.Fatal("no corpus file was accepted")
	}
}

// TestMalformedCorpus posts every malformed file of the corpus: each gets a
// 400 or 413 with a JSON error, never a 5xx or a dropped connection, and the
// server's heap stays bounded while it refuses thousands of them.
func TestMalformedCorpus(t *testing.T) {
	root := filepath.Join(sharedtest.Dir(t), "testdata", "arrow-ipc")
	files, _ := filepath.Glob(filepath.Join(root, "malformed", "*"))
	ts := startServer(t)
	tok := ts.createDemo("demo/events")
	bodies := make([][]byte, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies[i] = b
		r := ts.ingest(tok, b)
		if r.code != 400 && r.code != 413 {
			t.Errorf("%s: %d %s, want 400 or 413", filepath.Base(f), r.code, r.body)
			continue
		}
		r.errorText(t)
	}
	over, err := os.ReadFile(filepath.Join(root, "oversize", "1.0.0-littleendian_generated_decimal.stream"))
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.ingest(tok, over); r.code != 413 {
		t.Fatalf("oversize: %d %s", r.code, r.body)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	start := ms.HeapInuse
	var peak uint64
	for round := 0; round < 40; round++ {
		for _, b := range bodies {
			if r := ts.ingest(tok, b); r.code >= 500 {
				t.Fatalf("round %d: %d %s", round, r.code, r.body)
			}
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use: %d MB before, %d MB peak, %d MB after %d refusals",
		start>>20, peak>>20, ms.HeapInuse>>20, 40*len(bodies))
	if ms.HeapInuse > start+64<<20 {
		t.Fatalf("heap grew from %d to %d bytes while refusing malformed bodies", start, ms.HeapInuse)
	}
	if peak > start+256<<20 {
		t.Fatalf("heap peaked at %d bytes (from %d) while refusing malformed bodies", peak, start)
	}
	if st := ts.eng.Streams()[0].Stats(); st.NextID != 0 {
		// Two corpus files are schema-only streams: if accepted, they add no rows.
		t.Fatalf("malformed bodies stored %d rows", st.NextID)
	}
}

// sameValues reports whether two columns hold the same values: equal Arrow
// arrays, or, where ducktail normalised the layout (list item names, nulls
// moved from a dictionary's values into its indices), the same value in every
// row as the JSON encoder renders it.
func sameValues(w, g arrow.Array) bool {
	if arrow.TypeEqual(w.DataType(), g.DataType()) &&
		array.ApproxEqual(w, g, array.WithNaNsEqual(true), array.WithAbsTolerance(0)) {
		return true
	}
	if !schema.EqualIgnoringNames(w.DataType(), g.DataType()) || w.Len() != g.Len() {
		return false
	}
	for i := 0; i < w.Len(); i++ {
		if string(encode.AppendJSONValue(nil, w, i)) != string(encode.AppendJSONValue(nil, g, i)) {
			return false
		}
	}
	return true
}
