package schema

import (
	"github.com/ducktail/ducktail/internal/retype"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ducktail/ducktail/base"
)

// maxPlans bounds the per-Matcher cache of incoming schema shapes. When it is
// full the cache is emptied: a client cycling through more shapes than this
// pays for planning again, nothing worse.
const maxPlans = 256

// Matcher checks incoming batches against a topic's payload schema and
// reshapes them to it (SPEC 4.1). It is safe for concurrent use. It caches
// its decision per incoming schema shape, keyed by a seeded hash of the
// schema (names, nullability, types; not metadata), and remembers the last
// *arrow.Schema it saw, so that batches of an already seen shape cost no
// per-field string work.
type Matcher struct {
	topic *arrow.Schema
	seed  maphash.Seed
	last  atomic.Pointer[lastPlan]

	mu    sync.RWMutex
	plans map[uint64]*plan // guarded by mu
}

type lastPlan struct {
	schema *arrow.Schema
	plan   *plan
}

type action uint8

const (
	reuse  action = iota // the batch column, as is
	rebind               // the batch column's buffers under the topic's type
	decode               // a dictionary column decoded to plain values
	fill                 // an all-null array
)

type colPlan struct {
	src        int // index of the batch column; -1 for fill
	act        action
	checkNulls bool // the topic field is not nullable
	deep       bool // nested: check the data with checkWritable
}

// plan is the decision for one incoming shape: either err, or one colPlan
// per topic field in topic order.
type plan struct {
	cols []colPlan
	err  error
}

// NewMatcher returns a Matcher for the payload schema of a topic.
func NewMatcher(topic *arrow.Schema) *Matcher {
	return &Matcher{topic: topic, seed: maphash.MakeSeed(), plans: make(map[uint64]*plan)}
}

// Topic returns the topic schema the Matcher conforms to.
func (m *Matcher) Topic() *arrow.Schema { return m.topic }

// CheckSchema does the schema-level part of Conform, without data: nil if
// batches of schema s can be conformed (data permitting: nulls in a field
// that is not nullable are found only by Conform).
func (m *Matcher) CheckSchema(s *arrow.Schema) error { return m.planFor(s).err }

// Conform returns a record with exactly the topic's fields in the topic's
// order, and the topic schema:
//   - fields are matched by name, in any order; columns are reused, not
//     copied (a column whose type differs only in list element or map entry
//     names is re-typed over the same buffers);
//   - a dictionary<values=utf8> column is accepted for a utf8 field and a
//     dictionary<values=binary> column for a binary field, and decoded
//     (this copies);
//   - a missing field that is nullable in the topic is filled with nulls,
//     allocated from mem;
//   - a missing field that is not nullable, a field not in the topic, a field
//     given twice, a type mismatch (types compare as EqualIgnoringNames), or
//     nulls in a field that is not nullable is an error wrapping
//     base.ErrInvalid that names the first offending field, batch fields
//     first in batch order, then missing fields in topic order;
//   - in nested columns (list, map, struct, dictionary), data that pqarrow
//     cannot write is refused the same way, naming the path (see
//     checkWritable): a null list entry that has items, a null
//     fixed_size_list entry before a valid one, nulls among dictionary
//     values, nulls in a nested field declared not null.
//
// The caller must Release the result. rec is not consumed.
func (m *Matcher) Conform(rec arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	p := m.planFor(rec.Schema())
	if p.err != nil {
		return nil, p.err
	}
	n := int(rec.NumRows())
	cols := make([]arrow.Array, len(p.cols))
	fail := func(err error) (arrow.RecordBatch, error) {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
		return nil, err
	}
	for i, cp := range p.cols {
		f := m.topic.Field(i)
		var col arrow.Array
		var err error
		switch cp.act {
		case reuse:
			col = rec.Column(cp.src)
			col.Retain()
		case rebind:
			if col, err = retype.Rebind(rec.Column(cp.src), f.Type); err != nil {
				return fail(base.Errorf(base.ErrInvalid, "field %q: %w", f.Name, err))
			}
		case decode:
			if col, err = decodeDictionary(f.Name, rec.Column(cp.src), mem); err != nil {
				return fail(err)
			}
		case fill:
			col = array.MakeArrayOfNull(mem, f.Type, n)
		}
		cols[i] = col
		if col.Len() < n {
			return fail(base.Errorf(base.ErrInvalid, "field %q: column has %d rows, batch has %d", f.Name, col.Len(), n))
		}
		if cp.checkNulls && col.NullN() > 0 {
			return fail(base.Errorf(base.ErrInvalid, "field %q: not nullable, but the batch has %d nulls in it", f.Name, col.NullN()))
		}
		if d, ok := col.(*array.Dictionary); ok && d.Dictionary().NullN() > 0 {
			m := maskDictionaryNulls(d, mem)
			col.Release()
			col = m
			cols[i] = col
		}
		if cp.deep && cp.act != fill {
			if err := checkWritable(f.Name, col, f.Nullable, nil); err != nil {
				return fail(err)
			}
		}
	}
	out := array.NewRecordBatch(m.topic, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// planFor returns the cached plan for s, making it on first sight.
func (m *Matcher) planFor(s *arrow.Schema) *plan {
	if l := m.last.Load(); l != nil && l.schema == s {
		return l.plan
	}
	key := fingerprint(m.seed, s)
	m.mu.RLock()
	p := m.plans[key]
	m.mu.RUnlock()
	if p == nil {
		p = m.makePlan(s)
		m.mu.Lock()
		if len(m.plans) >= maxPlans {
			clear(m.plans)
		}
		m.plans[key] = p
		m.mu.Unlock()
	}
	m.last.Store(&lastPlan{schema: s, plan: p})
	return p
}

// makePlan decides how batches of schema s map onto the topic.
func (m *Matcher) makePlan(s *arrow.Schema) *plan {
	p := &plan{cols: make([]colPlan, m.topic.NumFields())}
	for i := range p.cols {
		f := m.topic.Field(i)
		p.cols[i] = colPlan{src: -1, act: fill, checkNulls: !f.Nullable, deep: needsDeepCheck(f.Type)}
	}
	fail := func(format string, args ...any) *plan {
		return &plan{err: base.Errorf(base.ErrInvalid, format, args...)}
	}
	for j, f := range s.Fields() {
		idx := m.topic.FieldIndices(f.Name)
		if len(idx) == 0 {
			return fail("field %q: not in the topic schema", f.Name)
		}
		i := idx[0]
		if p.cols[i].src >= 0 {
			return fail("field %q: appears more than once in the batch", f.Name)
		}
		want := m.topic.Field(i).Type
		var act action
		switch {
		case identical(want, f.Type):
			act = reuse
		case EqualIgnoringNames(want, f.Type):
			act = rebind
		case decodable(want, f.Type):
			act = decode
		default:
			return fail("field %q: type mismatch: topic has %s, batch has %s", f.Name, FormatType(want), FormatType(f.Type))
		}
		p.cols[i].src, p.cols[i].act = j, act
	}
	for i, cp := range p.cols {
		if cp.src < 0 && cp.checkNulls {
			return fail("field %q: missing and not nullable", m.topic.Field(i).Name)
		}
	}
	return p
}

// identical reports whether a batch column of type got can stand for the
// topic type want as it is: equal, down to the names of nested fields.
func identical(want, got arrow.DataType) bool {
	if !arrow.TypeEqual(want, got) {
		return false
	}
	if _, nested := want.(arrow.NestedType); !nested {
		return true
	}
	return want.Fingerprint() == got.Fingerprint()
}

// decodable reports whether got is a dictionary that Conform decodes into
// want: dictionary<values=utf8> for utf8, dictionary<values=binary> for
// binary.
func decodable(want, got arrow.DataType) bool {
	d, ok := got.(*arrow.DictionaryType)
	if !ok {
		return false
	}
	switch want.ID() {
	case arrow.STRING, arrow.BINARY:
		return d.ValueType.ID() == want.ID()
	}
	return false
}
