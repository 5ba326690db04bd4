package manifest

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/ducktail/ducktail/base"
)

// Segment describes one segment of a stream.
type Segment struct {
	Key     string `json:"key"`
	FirstID int64  `json:"first_id"`
	LastID  int64  `json:"last_id"`
	MinTS   int64  `json:"min_ts"` // unix milliseconds
	MaxTS   int64  `json:"max_ts"`
	Rows    int64  `json:"rows"`
	Bytes   int64  `json:"bytes"`
	CRC32C  uint32 `json:"crc32c"`
}

// Manifest is one version of a stream's list of segments.
type Manifest struct {
	Version  uint64    `json:"version"`
	Stream   string    `json:"stream"`
	Segments []Segment `json:"segments"`
	// Trimmed is the first id retention kept: the segments of every id below
	// it were deleted. The first segment, if any, starts at Trimmed.
	Trimmed int64 `json:"trimmed,omitempty"`
	// TrimmedTS is the largest _ts of the deleted segments, so that a stream
	// whose every segment was deleted still knows its last timestamp.
	TrimmedTS int64 `json:"trimmed_ts,omitempty"`
}

// NextID is LastID of the last segment + 1, or Trimmed when there is none:
// the first id not covered by a segment.
func (m *Manifest) NextID() int64 {
	if len(m.Segments) == 0 {
		return m.Trimmed
	}
	return m.Segments[len(m.Segments)-1].LastID + 1
}

// LastTS is the largest _ts the segments ever held, deleted ones included.
func (m *Manifest) LastTS() int64 {
	if len(m.Segments) == 0 {
		return m.TrimmedTS
	}
	return max(m.Segments[len(m.Segments)-1].MaxTS, m.TrimmedTS)
}

// Trim returns the manifest without its first k segments, recording the
// trim point. The result shares no memory with m.
func (m *Manifest) Trim(k int) *Manifest {
	out := &Manifest{Version: m.Version, Stream: m.Stream, Trimmed: m.Trimmed, TrimmedTS: m.TrimmedTS,
		Segments: append([]Segment(nil), m.Segments[k:]...)}
	if k > 0 {
		out.Trimmed = m.Segments[k-1].LastID + 1
		out.TrimmedTS = max(out.TrimmedTS, m.Segments[k-1].MaxTS)
	}
	return out
}

// Select returns the segments overlapping the id range [fromID, toID) and the
// ts range [sinceMs, untilMs) (math.MinInt64/MaxInt64 for open ends), in id
// order, found by binary search. The result shares m.Segments' memory: do
// not modify it.
func (m *Manifest) Select(fromID, toID, sinceMs, untilMs int64) []Segment {
	segs := m.Segments
	if fromID >= toID || sinceMs >= untilMs {
		return nil
	}
	// First segment that ends at or after fromID and at or after sinceMs.
	lo := sort.Search(len(segs), func(i int) bool { return segs[i].LastID >= fromID })
	lo = max(lo, sort.Search(len(segs), func(i int) bool { return segs[i].MaxTS >= sinceMs }))
	// First segment that starts at or after toID or untilMs.
	hi := sort.Search(len(segs), func(i int) bool { return segs[i].FirstID >= toID })
	hi = min(hi, sort.Search(len(segs), func(i int) bool { return segs[i].MinTS >= untilMs }))
	if lo >= hi {
		return nil
	}
	return segs[lo:hi:hi]
}

// Validate checks that every segment is non-empty and well formed, and that
// the segments are contiguous in id order with non-decreasing ts ranges.
// Problems are errors wrapping base.ErrCorrupt.
func (m *Manifest) Validate() error {
	if m.Trimmed < 0 {
		return base.Errorf(base.ErrCorrupt, "manifest: trimmed %d is negative", m.Trimmed)
	}
	if len(m.Segments) > 0 && m.Trimmed > 0 && m.Segments[0].FirstID != m.Trimmed {
		return base.Errorf(base.ErrCorrupt, "manifest: first segment starts at id %d, but ids below %d were trimmed",
			m.Segments[0].FirstID, m.Trimmed)
	}
	for i, s := range m.Segments {
		switch {
		case s.Key == "":
			return base.Errorf(base.ErrCorrupt, "manifest: segment %d has no key", i)
		case s.FirstID < 0 || s.LastID < s.FirstID:
			return base.Errorf(base.ErrCorrupt, "manifest: segment %d (%s) has id range [%d, %d]", i, s.Key, s.FirstID, s.LastID)
		case s.Rows != s.LastID-s.FirstID+1:
			return base.Errorf(base.ErrCorrupt, "manifest: segment %d (%s) has %d rows for ids [%d, %d]", i, s.Key, s.Rows, s.FirstID, s.LastID)
		case s.MaxTS < s.MinTS:
			return base.Errorf(base.ErrCorrupt, "manifest: segment %d (%s) has ts range [%d, %d]", i, s.Key, s.MinTS, s.MaxTS)
		case s.Bytes <= 0:
			return base.Errorf(base.ErrCorrupt, "manifest: segment %d (%s) has %d bytes", i, s.Key, s.Bytes)
		}
		if i == 0 {
			continue
		}
		prev := m.Segments[i-1]
		if s.FirstID != prev.LastID+1 {
			return base.Errorf(base.ErrCorrupt, "manifest: segment %d (%s) starts at id %d, want %d", i, s.Key, s.FirstID, prev.LastID+1)
		}
		if s.MinTS < prev.MaxTS {
			return base.Errorf(base.ErrCorrupt, "manifest: segment %d (%s) starts at ts %d, before the previous segment's %d", i, s.Key, s.MinTS, prev.MaxTS)
		}
	}
	return nil
}

// Encode returns m as JSON (one line, ending in a newline).
func (m *Manifest) Encode() ([]byte, error) {
	c := *m
	if c.Segments == nil {
		c.Segments = []Segment{}
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("manifest: cannot encode: %w", err)
	}
	return append(b, '\n'), nil
}

// Decode parses and validates a manifest. Problems are errors wrapping
// base.ErrCorrupt.
func Decode(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, base.Errorf(base.ErrCorrupt, "manifest: cannot decode: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}
