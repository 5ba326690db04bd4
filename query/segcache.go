package query

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/ducktail/ducktail/storage/segment"
)

// DefaultIdleSegments is how many open segment readers a Reader keeps
// between reads by default.
const DefaultIdleSegments = 64

// segID names one version of a segment: a key is reused only for the same
// id range, but a rewritten segment differs in size or checksum.
type segID struct {
	key  string
	size int64
	crc  uint32
}

// openSegment is a segment object and its parsed footer, checked out by
// one read at a time.
type openSegment struct {
	id   segID
	obj  storage.Object
	rd   *segment.Reader
	elem *list.Element // in segReaders.lru while idle
}

func (o *openSegment) close() {
	o.rd.Close()
	o.obj.Close()
}

// segReaders keeps idle open segment readers so that a read does not open
// the file and parse its footer (the Parquet metadata, the Arrow schema,
// every row group's statistics) again each time: for a 1,000-row read that
// was about a tenth of the work. A reader is used by one read at a time;
// concurrent reads of one segment each get their own. Idle readers beyond
// max are closed, least recently used first.
type segReaders struct {
	mem memory.Allocator
	max int

	mu     sync.Mutex
	idle   map[segID][]*openSegment
	lru    list.List // of *openSegment, most recently used at the front
	closed bool
}

func newSegReaders(mem memory.Allocator, max int) *segReaders {
	return &segReaders{mem: mem, max: max, idle: make(map[segID][]*openSegment)}
}

// get returns an idle reader of seg or opens one.
func (c *segReaders) get(ctx context.Context, store storage.Store, seg manifest.Segment) (*openSegment, error) {
	id := segID{key: seg.Key, size: seg.Bytes, crc: seg.CRC32C}
	c.mu.Lock()
	if l := c.idle[id]; len(l) > 0 {
		o := l[len(l)-1]
		if len(l) == 1 {
			delete(c.idle, id)
		} else {
			c.idle[id] = l[:len(l)-1]
		}
		c.lru.Remove(o.elem)
		o.elem = nil
		c.mu.Unlock()
		return o, nil
	}
	c.mu.Unlock()
	obj, err := store.Open(ctx, seg.Key)
	if err != nil {
		return nil, fmt.Errorf("opening segment %s: %w", seg.Key, err)
	}
	rd, err := segment.Open(obj, obj.Size(), c.mem)
	if err != nil {
		obj.Close()
		return nil, fmt.Errorf("reading segment %s: %w", seg.Key, err)
	}
	return &openSegment{id: id, obj: obj, rd: rd}, nil
}

// put makes o idle again, or closes it if the cache is closed or o is not
// worth keeping (max 0). The least recently used idle readers beyond max
// are closed.
func (c *segReaders) put(o *openSegment) {
	var evicted []*openSegment
	c.mu.Lock()
	if c.closed || c.max <= 0 {
		c.mu.Unlock()
		o.close()
		return
	}
	c.idle[o.id] = append(c.idle[o.id], o)
	o.elem = c.lru.PushFront(o)
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*openSegment)
		old.elem = nil
		l := c.idle[old.id]
		for i, x := range l {
			if x == old {
				l = append(l[:i], l[i+1:]...)
				break
			}
		}
		if len(l) == 0 {
			delete(c.idle, old.id)
		} else {
			c.idle[old.id] = l
		}
		evicted = append(evicted, old)
	}
	c.mu.Unlock()
	for _, old := range evicted {
		old.close()
	}
}

// close closes every idle reader; readers checked out are closed when
// they are put back.
func (c *segReaders) close() {
	c.mu.Lock()
	c.closed = true
	var all []*openSegment
	for e := c.lru.Front(); e != nil; e = e.Next() {
		all = append(all, e.Value.(*openSegment))
	}
	c.lru.Init()
	clear(c.idle)
	c.mu.Unlock()
	for _, o := range all {
		o.close()
	}
}

// idleCount returns the number of idle readers (for tests).
func (c *segReaders) idleCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
