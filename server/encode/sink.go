package encode

import "io"

// flushSize is the buffered output size past which a writer hands its
// buffer to the io.Writer in the middle of a record.
const flushSize = 64 << 10

// sink buffers output for an io.Writer. Its first write error is sticky.
type sink struct {
	w   io.Writer
	buf []byte
	err error
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
