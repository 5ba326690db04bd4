package arrowipc

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// decompress inflates one compressed buffer into exactly size bytes,
// charging size to the decompression allowance before allocating.
func (d *decoder) decompress(codec int, src []byte, size int64, idx int) (*memory.Buffer, error) {
	if err := d.charge(size, fmt.Sprintf("compressed buffer %d (uncompressed length %d)", idx, size)); err != nil {
		return nil, err
	}
	buf := memory.NewResizableBuffer(d.mem)
	buf.Resize(int(size))
	dst := buf.Bytes()
	var err error
	switch codec {
	case codecZSTD:
		err = d.unzstd(src, dst)
	case codecLZ4:
		err = unlz4Frames(src, dst)
	}
	if err != nil {
		buf.Release()
		return nil, errorf("buffer %d: %v", idx, err)
	}
	return buf, nil
}

// copyAligned copies a misaligned buffer into aligned memory.
func (d *decoder) copyAligned(src []byte, idx int) (*memory.Buffer, error) {
	if err := d.charge(int64(len(src)), fmt.Sprintf("realigning buffer %d (%d bytes)", idx, len(src))); err != nil {
		return nil, err
	}
	buf := memory.NewResizableBuffer(d.mem)
	buf.Resize(len(src))
	copy(buf.Bytes(), src)
	return buf, nil
}

func (d *decoder) unzstd(src, dst []byte) error {
	if d.zstd == nil {
		window := uint64(d.lim.MaxDecompressedBytes)
		if window < zstd.MinWindowSize {
			window = zstd.MinWindowSize
		}
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecodeAllCapLimit(true),
			zstd.WithDecoderMaxWindow(window),
			zstd.WithDecoderMaxMemory(uint64(d.lim.MaxDecompressedBytes)))
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		d.zstd = dec
	}
	out, err := d.zstd.DecodeAll(src, dst[:0])
	if err != nil {
		return fmt.Errorf("zstd: %w", err)
	}
	if len(out) != len(dst) || (len(out) > 0 && &out[0] != &dst[0]) {
		return fmt.Errorf("zstd data inflates to %d bytes, the buffer declares %d", len(out), len(dst))
	}
	return nil
}

// LZ4 frame format constants (lz4 Frame Format Description 1.6).
const (
	lz4Magic         = 0x184D2204
	lz4SkippableMask = 0xFFFFFFF0
	lz4SkippableBase = 0x184D2A50
	lz4MaxDist       = 64 << 10
)

// unlz4Frames decodes a sequence of LZ4 frames directly into dst, which it
// must fill exactly. Decoding block by block into dst keeps the memory used
// at len(dst), whatever block size the frame header declares.
func unlz4Frames(src, dst []byte) error {
	pos := 0
	for len(src) > 0 {
		if len(src) < 4 {
			return fmt.Errorf("lz4: %d stray bytes after a frame", len(src))
		}
		magic := binary.LittleEndian.Uint32(src)
		if magic&lz4SkippableMask == lz4SkippableBase {
			if len(src) < 8 {
				return fmt.Errorf("lz4: truncated skippable frame")
			}
			n := uint64(binary.LittleEndian.Uint32(src[4:]))
			if n > uint64(len(src)-8) {
				return fmt.Errorf("lz4: skippable frame of %d bytes is truncated", n)
			}
			src = src[8+n:]
			continue
		}
		if magic != lz4Magic {
			return fmt.Errorf("lz4: bad frame magic %#x", magic)
		}
		if len(src) < 7 {
			return fmt.Errorf("lz4: truncated frame header")
		}
		flg := src[4]
		if flg>>6 != 1 {
			return fmt.Errorf("lz4: frame version %d is not supported", flg>>6)
		}
		independent := flg&0x20 != 0
		blockSum := flg&0x10 != 0
		contentSize := flg&0x08 != 0
		contentSum := flg&0x04 != 0
		hdr := 7
		if contentSize {
			hdr += 8
		}
		if flg&0x01 != 0 {
			return fmt.Errorf("lz4: frames with a dictionary id are not supported")
		}
		if len(src) < hdr {
			return fmt.Errorf("lz4: truncated frame header")
		}
		src = src[hdr:]
		frameStart := pos
		for {
			if len(src) < 4 {
				return fmt.Errorf("lz4: truncated block")
			}
			bs := binary.LittleEndian.Uint32(src)
			src = src[4:]
			if bs == 0 {
				break
			}
			stored := bs&0x80000000 != 0
			n := int(bs & 0x7FFFFFFF)
			if n > len(src) {
				return fmt.Errorf("lz4: block of %d bytes is truncated", n)
			}
			blk := src[:n]
			src = src[n:]
			if blockSum {
				if len(src) < 4 {
					return fmt.Errorf("lz4: truncated block checksum")
				}
				src = src[4:]
			}
			if stored {
				if n > len(dst)-pos {
					return fmt.Errorf("lz4: data inflates past the declared %d bytes", len(dst))
				}
				pos += copy(dst[pos:], blk)
				continue
			}
			if pos == len(dst) {
				// Also keeps an empty dst away from the assembly decoder,
				// which does not accept one.
				return fmt.Errorf("lz4: data inflates past the declared %d bytes", len(dst))
			}
			var (
				m   int
				err error
			)
			if independent || pos == frameStart {
				m, err = lz4.UncompressBlock(blk, dst[pos:])
			} else {
				lo := max(frameStart, pos-lz4MaxDist)
				m, err = lz4.UncompressBlockWithDict(blk, dst[pos:], dst[lo:pos])
			}
			if err != nil {
				return fmt.Errorf("lz4: %w", err)
			}
			pos += m
		}
		if contentSum {
			if len(src) < 4 {
				return fmt.Errorf("lz4: truncated content checksum")
			}
			src = src[4:]
		}
	}
	if pos != len(dst) {
		return fmt.Errorf("lz4 data inflates to %d bytes, the buffer declares %d", pos, len(dst))
	}
	return nil
}
