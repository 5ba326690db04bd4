package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/jtd"
	"github.com/ducktail/ducktail/engine/jtdarrow"
	"github.com/ducktail/ducktail/engine/schema"
)

// MaxTypeBytes bounds an event type's JSON Type Definition.
const MaxTypeBytes = 64 << 10

// typedContentType is the _content_type of every typed row (SPEC 2): its
// body was JSON, whatever header carried it.
const typedContentType = "application/json"

// maxTypeDepth bounds the refs validation follows one inside another.
const maxTypeDepth = 256

// typeDef is an event type as the catalog keeps it: the definition as the
// client sent it (so GET .json answers it byte for byte) and when it was
// first defined.
type typeDef struct {
	Name    string          `json:"name"`
	JTD     json.RawMessage `json:"jtd"`
	Created time.Time       `json:"created"`
	// Past are the type's earlier definitions, newest first (at most
	// maxPastDefs): rows written under them still hold properties the
	// current one may have dropped, and read back with them.
	Past []json.RawMessage `json:"past,omitempty"`
}

// maxPastDefs bounds the earlier definitions a type keeps. A property
// dropped longer ago than that many redefinitions is still in its column
// (SQL sees it) but no longer in the type's events as reads render them.
const maxPastDefs = 32

// eventType is one compiled event type of a stream. Immutable.
type eventType struct {
	def    typeDef
	schema *jtd.Schema
	props  []jtdarrow.Prop
	read   []jtdarrow.Prop // props, then those only earlier definitions have (optional)
	// The schemas of its rows: _content_type, _data, then its own columns
	// (a batch holds only its type's columns; flush and readers fill the
	// others with nulls by name).
	payload, stored, flushed *arrow.Schema
}

// typeSet is a stream's event types at one moment. Immutable: a change
// makes a new set, swapped in under the stream's mutex. Columns only grow.
type typeSet struct {
	types   []*eventType // in order of first definition
	byName  map[string]*eventType
	columns []arrow.Field // typed columns, in order of first definition
	// The stream's schemas: the untyped payload, then every typed column.
	payload, stored, flushed *arrow.Schema
}

// EventType is an event type's definition, as GET .json and .ts serve it.
type EventType struct {
	Name    string
	JTD     json.RawMessage // as it was PUT
	Created time.Time
	Schema  *jtd.Schema
	Props   []jtdarrow.Prop // its columns
	// Read are the properties a stored row of the type may hold, as reads
	// render them: Props, then, as optional, those that only earlier
	// definitions had. An event reads back as it was written (the Pipet
	// seed: events are immutable), whatever the type became since.
	Read []jtdarrow.Prop
}

func (t *eventType) public() EventType {
	return EventType{Name: t.def.Name, JTD: t.def.JTD, Created: t.def.Created, Schema: t.schema, Props: t.props, Read: t.read}
}

// compileType parses and maps a definition. Errors wrap base.ErrInvalid.
func compileType(def typeDef) (*eventType, error) {
	// Compacted here as well as on PUT: the catalog is written indented,
	// which indents the definitions it holds, and GET .json would answer
	// them so after a restart.
	def.JTD = compactJSON(def.JTD)
	if def.Past != nil {
		past := make([]json.RawMessage, len(def.Past))
		for i, p := range def.Past {
			past[i] = compactJSON(p)
		}
		def.Past = past
	}
	s, err := jtd.Parse(def.JTD)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, `unknown type "int64"`) || strings.Contains(msg, `unknown type "uint64"`) {
			// The Pipet documentation shows int64; RFC 8927 has no such type.
			return nil, base.Errorf(base.ErrInvalid, "type %s: %w; RFC 8927 has no 64-bit integers: its integer types are int8, uint8, int16, uint16, int32 and uint32 (use float64, or a string for ids)", def.Name, err)
		}
		return nil, base.Errorf(base.ErrInvalid, "type %s: %w", def.Name, err)
	}
	props, err := jtdarrow.Columns(s)
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "type %s: %w", def.Name, err)
	}
	t := &eventType{def: def, schema: s, props: props, read: pastProps(props, def.Past)}
	fields := append([]arrow.Field(nil), eventsPayload.Fields()...)
	for _, p := range props {
		fields = append(fields, p.Field())
	}
	t.payload = arrow.NewSchema(fields, nil)
	if err := schema.CheckStorable(t.payload); err != nil {
		return nil, base.Errorf(base.ErrInvalid, "type %s: %w", def.Name, err)
	}
	t.stored = schema.Stored(t.payload)
	t.flushed = flushSchemaOf(t.stored)
	return t, nil
}

// compactJSON returns raw compacted, or as it is if it is not JSON.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// pastProps returns props followed, as optional, by the properties of the
// past definitions (newest first) that props lack. A past definition that
// no longer compiles adds nothing.
func pastProps(props []jtdarrow.Prop, past []json.RawMessage) []jtdarrow.Prop {
	out := props
	seen := make(map[string]bool, len(props))
	for _, p := range props {
		seen[p.Name] = true
	}
	for _, raw := range past {
		s, err := jtd.Parse(raw)
		if err != nil {
			continue
		}
		old, err := jtdarrow.Columns(s)
		if err != nil {
			continue
		}
		for _, p := range old {
			if !seen[p.Name] {
				seen[p.Name] = true
				p.Required = false
				out = append(out[:len(out):len(out)], p)
			}
		}
	}
	return out
}

// newTypeSet builds the set of defs, in order, keeping the typed columns
// of prev (columns never go away: segments have them). A property whose
// column exists with another Arrow type is an ErrConflict naming it.
func newTypeSet(prev []arrow.Field, defs []typeDef) (*typeSet, error) {
	ts := &typeSet{byName: make(map[string]*eventType, len(defs)), columns: append([]arrow.Field(nil), prev...)}
	at := make(map[string]int, len(prev))
	// DuckDB's column names are case-insensitive: "Name" and "name" would
	// be one column in SQL, and one of the two properties lost there.
	folded := make(map[string]string, len(prev))
	for i, f := range prev {
		at[f.Name] = i
		folded[jtdarrow.FoldName(f.Name)] = f.Name
	}
	for _, def := range defs {
		t, err := compileType(def)
		if err != nil {
			return nil, err
		}
		for _, p := range t.props {
			f := p.Field()
			i, ok := at[f.Name]
			if !ok {
				if other, clash := folded[jtdarrow.FoldName(f.Name)]; clash {
					return nil, base.Errorf(base.ErrConflict,
						"type %s: property %q differs only in case from the stream's column %q, and SQL column names are case-insensitive: use the same spelling, or another name",
						def.Name, f.Name, other)
				}
				folded[jtdarrow.FoldName(f.Name)] = f.Name
				at[f.Name] = len(ts.columns)
				ts.columns = append(ts.columns, f)
				continue
			}
			if have := ts.columns[i].Type; !arrow.TypeEqual(have, f.Type) {
				return nil, base.Errorf(base.ErrConflict,
					"type %s: property %q would be stored as %s, but the stream's column %q is %s (SPEC 2: a property name maps to one Arrow type across all the stream's types)",
					def.Name, f.Name, schema.FormatType(f.Type), f.Name, schema.FormatType(have))
			}
		}
		ts.types = append(ts.types, t)
		ts.byName[def.Name] = t
	}
	fields := append(append([]arrow.Field(nil), eventsPayload.Fields()...), ts.columns...)
	ts.payload = arrow.NewSchema(fields, nil)
	ts.stored = schema.Stored(ts.payload)
	ts.flushed = flushSchemaOf(ts.stored)
	return ts, nil
}

func (ts *typeSet) defs() []typeDef {
	out := make([]typeDef, len(ts.types))
	for i, t := range ts.types {
		out[i] = t.def
	}
	return out
}

// loadTypes sets a stream's types from its catalog entry.
func (st *Stream) loadTypes(def streamDef) error {
	if len(def.Types) == 0 && len(def.Columns) == 0 {
		return nil
	}
	prev, err := schema.FromFields(def.Columns)
	if err != nil {
		return base.Errorf(base.ErrCorrupt, "stream %s: typed columns: %w", def.Name, err)
	}
	ts, err := newTypeSet(prev.Fields(), def.Types)
	if err != nil {
		return base.Errorf(base.ErrCorrupt, "stream %s: %w", def.Name, err)
	}
	st.types.Store(ts)
	return nil
}

// EventType returns the stream's definition of event type name.
func (st *Stream) EventType(name string) (EventType, bool) {
	if ts := st.typeSet(); ts != nil {
		if t := ts.byName[name]; t != nil {
			return t.public(), true
		}
	}
	return EventType{}, false
}

// EventTypes returns every defined event type, in order of first
// definition.
func (st *Stream) EventTypes() []EventType {
	ts := st.typeSet()
	if ts == nil {
		return nil
	}
	out := make([]EventType, len(ts.types))
	for i, t := range ts.types {
		out[i] = t.public()
	}
	return out
}

// PutEventType defines or redefines event type typ of the event stream
// name from a JSON Type Definition (SPEC 4.2), creating the stream if it
// does not exist, and reports whether the type is new. A redefinition may
// add properties and change anything that keeps each property's Arrow type;
// a property whose Arrow type would differ from the column of that name
// (defined by this or another type) is an ErrConflict. The stream's schema
// grows by the new columns; rows already written keep theirs, read with
// nulls in the new ones.
func (e *Engine) PutEventType(ctx context.Context, name base.StreamName, typ string, raw []byte) (EventType, bool, error) {
	if len(raw) > MaxTypeBytes {
		return EventType{}, false, base.Errorf(base.ErrTooLarge, "type definition is %d bytes, over the limit of %d", len(raw), MaxTypeBytes)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return EventType{}, false, base.Errorf(base.ErrInvalid, "type %s: the definition is not valid JSON: %v", typ, err)
	}
	def := typeDef{Name: typ, JTD: json.RawMessage(compact.Bytes()), Created: e.opts.Now().UTC()}
	t, err := compileType(def)
	if err != nil {
		return EventType{}, false, err
	}
	// Checked here rather than in compileType: a type stored before the
	// rule (a catalog entry) must still load, or its stream would not open.
	if err := jtdarrow.CheckNames(t.schema); err != nil {
		return EventType{}, false, base.Errorf(base.ErrInvalid, "type %s: %w", typ, err)
	}
	st, err := e.Stream(name)
	if err != nil {
		if st, err = e.CreateEventStream(ctx, name); err != nil {
			return EventType{}, false, err
		}
	}
	if st.IsTopic() {
		return EventType{}, false, base.Errorf(base.ErrConflict,
			"stream %s is a topic: its rows follow its Arrow schema, and event types are for streams of events", name)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return EventType{}, false, base.Errorf(base.ErrClosed, "engine: closed")
	}
	if e.opts.ReadOnly {
		return EventType{}, false, base.Errorf(base.ErrForbidden, "engine: opened read-only")
	}
	old := st.types.Load()
	var defs []typeDef
	var prev []arrow.Field
	created := true
	if old != nil {
		defs, prev = old.defs(), old.columns
		for i := range defs {
			if defs[i].Name == typ {
				if bytes.Equal(defs[i].JTD, def.JTD) {
					return old.byName[typ].public(), false, nil
				}
				def.Created = defs[i].Created
				def.Past = pastDefs(defs[i], def.JTD)
				defs[i] = def
				created = false
			}
		}
	}
	if created {
		defs = append(defs, def)
	}
	next, err := newTypeSet(prev, defs)
	if err != nil {
		return EventType{}, false, err
	}
	// Swapped under the stream's mutex: a Snapshot's schema then covers
	// every batch pushed before it.
	st.mu.Lock()
	st.types.Store(next)
	st.mu.Unlock()
	cat := e.catalogLocked()
	err = saveCatalog(e.opts.FS, e.opts.DataDir, cat)
	if err == nil && e.remote() {
		err = saveRemoteCatalog(ctx, e.store, cat)
	}
	if err != nil {
		st.mu.Lock()
		st.types.Store(old)
		st.mu.Unlock()
		return EventType{}, false, fmt.Errorf("engine: cannot save the catalog: %w", err)
	}
	return next.byName[typ].public(), created, nil
}

// pastDefs returns the past definitions of a type redefined from old to
// jtd: old's, newest first, without jtd itself, at most maxPastDefs.
func pastDefs(old typeDef, jtd json.RawMessage) []json.RawMessage {
	past := []json.RawMessage{old.JTD}
	for _, p := range old.Past {
		if !slices.ContainsFunc(past, func(q json.RawMessage) bool { return bytes.Equal(p, q) }) {
			past = append(past, p)
		}
	}
	past = slices.DeleteFunc(past, func(p json.RawMessage) bool { return bytes.Equal(p, jtd) })
	return past[:min(len(past), maxPastDefs)]
}

// typedMedia reports whether a typed event may come with this content
// type: JSON, or the types a body gets without an explicit header (fetch
// and sendBeacon send strings as text/plain, curl -d as a form, nothing at
// all is octet-stream). The body must be JSON in every case.
func typedMedia(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "", "application/json", "text/plain", "application/octet-stream", "application/x-www-form-urlencoded":
		return true
	}
	return strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// buildTyped validates data, the body of an event of type t, and returns
// its one-row payload record. Errors wrap base.ErrInvalid (not JSON, or
// not valid for the type: the message names the JSON Pointer of the first
// error) or base.ErrUnsupported (a content type that cannot hold JSON).
func (t *eventType) buildTyped(contentType string, data []byte, mem memory.Allocator) (arrow.RecordBatch, error) {
	v, err := t.validate(contentType, data)
	if err != nil {
		return nil, err
	}
	return t.record(v, mem), nil
}

// validate is buildTyped's check: it returns data decoded, if valid.
func (t *eventType) validate(contentType string, data []byte) (any, error) {
	if !typedMedia(contentType) {
		return nil, base.Errorf(base.ErrUnsupported,
			"event type %s has a type definition: send its body as JSON (Content-Type: application/json), not %s", t.def.Name, contentType)
	}
	// encoding/json would put U+FFFD for each bad byte, and the columns
	// would keep that instead of what was sent.
	if !utf8.Valid(data) {
		return nil, base.Errorf(base.ErrInvalid, "event type %s has a type definition and the body is not valid UTF-8 (at byte %d), which JSON must be", t.def.Name, invalidUTF8At(data))
	}
	v, err := jtd.DecodeJSON(trimBOM(data))
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "event type %s has a type definition and the body is not JSON: %v", t.def.Name, err)
	}
	errs, err := t.schema.Validate(v, jtd.Options{MaxErrors: 1, MaxDepth: maxTypeDepth})
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "event type %s: %w", t.def.Name, err)
	}
	if len(errs) > 0 {
		return nil, base.Errorf(base.ErrInvalid, "event type %s: %s", t.def.Name, jtd.FirstErrorMessage(errs))
	}
	obj, _ := v.(map[string]any)
	if err := jtdarrow.Check(t.props, obj); err != nil {
		return nil, fmt.Errorf("event type %s: %w", t.def.Name, err)
	}
	return v, nil
}

// CheckEvents returns the error that appending evs to st would meet in
// their bodies, without appending: a typed event whose body is not valid
// JSON for its type, with the same message as the append's. An event with
// no Type has its content type as its type, as in AppendEvents.
func (st *Stream) CheckEvents(evs []Event) error {
	return eachTyped(st, evs, func(i int, et *eventType) error {
		_, err := et.validate(evs[i].ContentType, evs[i].Data)
		return err
	})
}

// eachTyped calls fn for each event of evs whose type (its content type
// when it has none) has a definition in st, and returns fn's first error,
// naming the event when there are several.
func eachTyped(st *Stream, evs []Event, fn func(i int, et *eventType) error) error {
	ts := st.typeSet()
	if ts == nil {
		return nil
	}
	for i := range evs {
		typ := evs[i].Type
		if typ == "" {
			typ = evs[i].ContentType
		}
		et := ts.byName[typ]
		if et == nil {
			continue
		}
		if err := fn(i, et); err != nil {
			if len(evs) > 1 {
				return fmt.Errorf("event %d: %w", i, err)
			}
			return err
		}
	}
	return nil
}

// record makes the one-row payload record of a decoded instance v, valid
// or not (replay rebuilds rows under the current definition, which may
// have changed compatibly since): what does not fit is null.
func (t *eventType) record(v any, mem memory.Allocator) arrow.RecordBatch {
	obj, _ := v.(map[string]any)
	cols := make([]arrow.Array, 0, t.payload.NumFields())
	cols = append(cols, oneValue(arrow.BinaryTypes.String, []byte(typedContentType)))
	cols = append(cols, array.MakeArrayOfNull(mem, arrow.BinaryTypes.Binary, 1))
	cols = append(cols, jtdarrow.BuildColumns(mem, t.props, obj)...)
	rec := array.NewRecordBatch(t.payload, cols, 1)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// replayTyped rebuilds a typed row from its logged body, or nil when the
// type has no definition any more or the body is not JSON (the row is
// then kept untyped, its body as data, rather than lost).
func (st *Stream) replayTyped(typ string, data []byte, mem memory.Allocator) (arrow.RecordBatch, *eventType) {
	ts := st.typeSet()
	if ts == nil {
		return nil, nil
	}
	t := ts.byName[typ]
	if t == nil {
		return nil, nil
	}
	v, err := jtd.DecodeJSON(trimBOM(data))
	if err != nil {
		return nil, nil
	}
	return t.record(v, mem), t
}

// typeSet returns the stream's event types; a substream's are its
// factory's, so that a type defined on the factory reaches every substream
// at once.
func (st *Stream) typeSet() *typeSet {
	if st.parent != nil {
		return st.parent.types.Load()
	}
	return st.types.Load()
}

// utf8BOM is the byte order mark some editors and Windows tools put before
// UTF-8 text.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// trimBOM returns a typed event's body without one leading byte order
// mark: RFC 8259 section 8.1 lets a parser ignore it (encoding/json does
// not), and CSV bodies have theirs dropped too. The WAL keeps the body as
// received, so replay trims it again.
func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, utf8BOM) }

// invalidUTF8At returns the offset of the first byte of b that is not part
// of a valid UTF-8 sequence, or len(b).
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}
