package encode

import (
	"io"
	"sync"
)

// flushSize is the buffered output size past which a writer hands its
// buffer to the io.Writer in the middle of a record.
const flushSize = 64 << 10

// sinkBufs recycles sink buffers: a listing of 1,000 events otherwise grows
// a fresh buffer to flushSize by doubling on every request, which was a
// tenth of a range read's garbage. Like encoding/json's encode states, the
// pool is the package's only shared state and holds nothing but capacity.
var sinkBufs = sync.Pool{New: func() any { b := make([]byte, 0, flushSize+flushSize/4); return &b }}

// maxPooledSink is the largest buffer put back: one huge row must not pin
// its buffer in the pool.
const maxPooledSink = 4 * flushSize

// sink buffers output for an io.Writer. Its first write error is sticky.
type sink struct {
	w   io.Writer
	buf []byte
	err error
	// pooled is the pool's slice header the buffer came from, if it did.
	pooled *[]byte
}

func newSink(w io.Writer) sink {
	p := sinkBufs.Get().(*[]byte)
	return sink{w: w, buf: (*p)[:0], pooled: p}
}

// maybeFlush flushes the buffer once it has grown past flushSize.
func (s *sink) maybeFlush() {
	if len(s.buf) >= flushSize {
		s.flush()
	}
}

// flush writes the buffer out and returns the sticky error.
func (s *sink) flush() error {
	if s.err == nil && len(s.buf) > 0 {
		_, s.err = s.w.Write(s.buf)
	}
	s.buf = s.buf[:0]
	return s.err
}

// release flushes the buffer and gives it back to the pool; the sink
// must not be written to afterwards.
func (s *sink) release() error {
	err := s.flush()
	if s.pooled != nil && cap(s.buf) <= maxPooledSink {
		*s.pooled = s.buf[:0]
		sinkBufs.Put(s.pooled)
	}
	s.buf, s.pooled = nil, nil
	return err
}
