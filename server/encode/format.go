package encode

import (
	"bytes"
	"strconv"
)

// Format is an output format.
type Format int

// The output formats, chosen by the Accept header (SPEC 4.2).
const (
	JSON   Format = iota // application/json: one array
	NDJSON               // application/x-ndjson: one object per line
	CSV                  // text/csv: a header line, then one line per row
	Arrow                // application/vnd.apache.arrow.stream: an Arrow IPC stream
)

// ContentType returns the Content-Type of the format's output.
func (f Format) ContentType() string {
	switch f {
	case NDJSON:
		return "application/x-ndjson"
	case CSV:
		return "text/csv; charset=utf-8"
	case Arrow:
		return "application/vnd.apache.arrow.stream"
	default:
		return "application/json"
	}
}

// String returns the format's short name.
func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case NDJSON:
		return "ndjson"
	case CSV:
		return "csv"
	case Arrow:
		return "arrow"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// candidate is a media type Negotiate can answer with. Their order breaks
// ties between equally acceptable types (so "*/*" gives JSON).
type candidate struct {
	typ, sub string
	f        Format
	sse      bool
}

// candidates returns the media types in order of preference.
func candidates() [6]candidate {
	return [6]candidate{
		{"application", "json", JSON, false},
		{"application", "x-ndjson", NDJSON, false},
		{"application", "ndjson", NDJSON, false},
		{"text", "csv", CSV, false},
		{"application", "vnd.apache.arrow.stream", Arrow, false},
		{"text", "event-stream", 0, true},
	}
}

// match is how an Accept header rates one candidate.
type match struct {
	q    int // quality in thousandths; -1: not matched
	spec int // 2 type/subtype, 1 type/*, 0 */*
	pos  int // index of the range in the header
}

// better reports whether m beats o: higher q, then the more specific
// range, then the range listed first.
func (m match) better(o match) bool {
	if m.q != o.q {
		return m.q > o.q
	}
	if m.spec != o.spec {
		return m.spec > o.spec
	}
	return m.pos < o.pos
}

// negotiate rates each candidate against accept and returns the winner's
// index, or -1 when none is acceptable. An empty header, or one with no
// parseable range, accepts anything.
func negotiate(accept []byte) int {
	cands := candidates()
	var best [len(cands)]match
	for k := range best {
		best[k] = match{q: -1}
	}
	parsed := 0
	rest := accept
	for pos := 0; len(rest) > 0; pos++ {
		var item []byte
		item, rest, _ = bytes.Cut(rest, []byte{','})
		mt, params, _ := bytes.Cut(item, []byte{';'})
		typ, sub, ok := bytes.Cut(bytes.TrimSpace(mt), []byte{'/'})
		typ, sub = bytes.TrimSpace(typ), bytes.TrimSpace(sub)
		if !ok || len(typ) == 0 || len(sub) == 0 {
			continue
		}
		q, ok := qParam(params)
		if !ok {
			continue
		}
		parsed++
		for k, c := range cands {
			var m match
			switch {
			case bytes.Equal(typ, []byte{'*'}) && bytes.Equal(sub, []byte{'*'}):
				m = match{q: q, spec: 0, pos: pos}
			case !bytes.EqualFold(typ, []byte(c.typ)):
				continue
			case bytes.Equal(sub, []byte{'*'}):
				m = match{q: q, spec: 1, pos: pos}
			case bytes.EqualFold(sub, []byte(c.sub)):
				m = match{q: q, spec: 2, pos: pos}
			default:
				continue
			}
			// The most specific range that matches a type sets its q.
			if cur := best[k]; cur.q < 0 || m.spec > cur.spec || (m.spec == cur.spec && m.pos < cur.pos) {
				best[k] = m
			}
		}
	}
	if parsed == 0 {
		return 0
	}
	win := -1
	for k, m := range best {
		if m.q <= 0 {
			continue
		}
		if win < 0 || m.better(best[win]) {
			win = k
		}
	}
	return win
}

// qParam finds the q parameter among ";"-separated params and returns it in
// thousandths (1000 when absent). ok is false for a malformed q.
func qParam(params []byte) (q int, ok bool) {
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte{';'})
		name, value, _ := bytes.Cut(p, []byte{'='})
		if !bytes.EqualFold(bytes.TrimSpace(name), []byte{'q'}) {
			continue
		}
		return parseQ(bytes.TrimSpace(value))
	}
	return 1000, true
}

// parseQ parses an RFC 9110 qvalue: 0[.ddd] or 1[.000].
func parseQ(v []byte) (int, bool) {
	if len(v) == 0 || (v[0] != '0' && v[0] != '1') {
		return 0, false
	}
	q := int(v[0]-'0') * 1000
	if len(v) == 1 {
		return q, true
	}
	if v[1] != '.' || len(v) > 5 {
		return 0, false
	}
	scale := 100
	for _, c := range v[2:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

// Negotiate picks a format from an Accept header. It honours q-values
// (q=0 refuses a type), wildcards ("text/*" gives CSV, "*/*" JSON) and
// specificity; between equally acceptable types the one listed first wins,
// then JSON, NDJSON, CSV, Arrow in that order. An empty header, "*/*", or a
// header with no parseable media range gives JSON. ok is false when the
// header prefers text/event-stream (see WantsEventStream: the caller
// serves SSE) or accepts none of the formats (the caller answers 406, or
// JSON anyway); f is then JSON.
func Negotiate(accept []byte) (f Format, ok bool) {
	if len(bytes.TrimSpace(accept)) == 0 {
		return JSON, true
	}
	win := negotiate(accept)
	if win < 0 {
		return JSON, false
	}
	c := candidates()[win]
	if c.sse {
		return JSON, false
	}
	return c.f, true
}

// WantsEventStream reports whether the Accept header prefers
// text/event-stream over every Format (by the rules of Negotiate).
func WantsEventStream(accept []byte) bool {
	if len(bytes.TrimSpace(accept)) == 0 {
		return false
	}
	win := negotiate(accept)
	return win >= 0 && candidates()[win].sse
}
