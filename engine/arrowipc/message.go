package arrowipc

import (
	"encoding/binary"

	"github.com/ducktail/ducktail/base"
)

// Message header types (Message.fbs, MessageHeader union).
const (
	hdrSchema          = 1
	hdrDictionaryBatch = 2
	hdrRecordBatch     = 3
)

// Metadata versions (Schema.fbs, MetadataVersion). V4 is Arrow 0.8-0.17
// (still written by some producers), V5 is Arrow >= 1.0.
const (
	metaV4 = 3
	metaV5 = 4
)

const continuation = 0xFFFFFFFF

// message is one framed IPC message whose metadata has been verified as a
// Message table and whose body lies inside the stream.
type message struct {
	index      int   // 0-based position in the stream
	version    int16 // MetadataVersion
	headerType uint8
	header     fbTable // the Schema / DictionaryBatch / RecordBatch table
	body       []byte
}

// framer walks the messages of a stream held in memory. It never reads
// past the end of the slice and never allocates for a declared length.
type framer struct {
	b     []byte
	pos   int
	count int  // messages returned so far
	eos   bool // an end-of-stream marker was read
}

// next returns the next message. ok is false at the end of the stream (an
// EOS marker or the end of the bytes).
func (f *framer) next() (m message, ok bool, err error) {
	if f.eos {
		return message{}, false, nil
	}
	left := len(f.b) - f.pos
	if left == 0 {
		return message{}, false, nil
	}
	idx := f.count
	if left < 4 {
		return message{}, false, base.Errorf(base.ErrInvalid,
			"arrow: message %d: stream ends with %d stray bytes where a message length was expected", idx, left)
	}
	word := binary.LittleEndian.Uint32(f.b[f.pos:])
	f.pos += 4
	var metaLen int64
	if word == continuation {
		if len(f.b)-f.pos < 4 {
			return message{}, false, base.Errorf(base.ErrInvalid,
				"arrow: message %d: stream ends inside the message length", idx)
		}
		metaLen = int64(int32(binary.LittleEndian.Uint32(f.b[f.pos:])))
		f.pos += 4
	} else {
		// Pre-0.15 framing: the length without the continuation marker.
		metaLen = int64(int32(word))
	}
	if metaLen == 0 {
		f.eos = true
		if rest := len(f.b) - f.pos; rest != 0 {
			return message{}, false, base.Errorf(base.ErrInvalid,
				"arrow: %d bytes follow the end-of-stream marker", rest)
		}
		return message{}, false, nil
	}
	left = len(f.b) - f.pos
	if metaLen < 0 || metaLen > int64(left) {
		return message{}, false, base.Errorf(base.ErrInvalid,
			"arrow: message %d: metadata length %d exceeds the %d bytes left in the request", idx, metaLen, left)
	}
	meta := f.b[f.pos : f.pos+int(metaLen)]
	f.pos += int(metaLen)
	m, bodyLen, err := parseMessage(meta)
	if err != nil {
		return message{}, false, base.Errorf(base.ErrInvalid, "arrow: message %d: %w", idx, err)
	}
	left = len(f.b) - f.pos
	if bodyLen < 0 || bodyLen > int64(left) {
		return message{}, false, base.Errorf(base.ErrInvalid,
			"arrow: message %d: body length %d exceeds the %d bytes left in the request", idx, bodyLen, left)
	}
	m.index = idx
	m.body = f.b[f.pos : f.pos+int(bodyLen) : f.pos+int(bodyLen)]
	f.pos += int(bodyLen)
	f.count++
	return m, true, nil
}

// parseMessage verifies the Message table of meta: version, header type,
// header table, body length and custom metadata.
func parseMessage(meta []byte) (message, int64, error) {
	root, err := fbRoot(meta)
	if err != nil {
		return message{}, 0, err
	}
	var m message
	if m.version, err = root.i16(0, 0); err != nil {
		return message{}, 0, err
	}
	if m.version != metaV4 && m.version != metaV5 {
		return message{}, 0, errorf("metadata version %d is not supported (want V4 or V5)", int(m.version)+1)
	}
	if m.headerType, err = root.u8(1, 0); err != nil {
		return message{}, 0, err
	}
	switch m.headerType {
	case hdrSchema, hdrDictionaryBatch, hdrRecordBatch:
	default:
		return message{}, 0, errorf("message type %d is not allowed in a stream", m.headerType)
	}
	hdr, ok, err := root.table(2)
	if err != nil {
		return message{}, 0, err
	}
	if !ok {
		return message{}, 0, errorf("message has no header")
	}
	m.header = hdr
	bodyLen, err := root.i64(3, 0)
	if err != nil {
		return message{}, 0, err
	}
	if err := root.checkKeyValues(4); err != nil {
		return message{}, 0, err
	}
	return m, bodyLen, nil
}
