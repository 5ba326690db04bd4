package encode

import (
	"strconv"
	"unsafe"

	"github.com/ducktail/ducktail/internal/jsonx"
)

// appendJSONString appends s as a quoted JSON string. Escaping follows
// encoding/json without HTML escaping: '"', '\\', control characters, U+2028
// and U+2029 are escaped, and each invalid UTF-8 byte becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	return jsonx.AppendString(dst, s)
}

// appendJSONBytes is appendJSONString for a byte slice, without copying it.
func appendJSONBytes(dst []byte, b []byte) []byte {
	return appendJSONString(dst, bytesString(b))
}

// bytesString views b as a string without copying. The string must not
// outlive b nor be kept after b is modified: callers only read it while
// appending.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendFloat appends f as encoding/json formats a float of the given bit
// size, or null for NaN and ±Inf.
func appendFloat(dst []byte, f float64, bits int) []byte { return jsonx.AppendFloat(dst, f, bits) }

// appendDecimalDigits appends the decimal number whose unscaled value has
// the sign neg and the absolute digits (no sign, no leading zeros, "0" for
// zero), with scale digits after the point. A negative scale appends zeros.
func appendDecimalDigits(dst []byte, neg bool, digits []byte, scale int32) []byte {
	if neg {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		dst = append(dst, digits...)
		if len(digits) == 1 && digits[0] == '0' {
			return dst
		}
		for k := int32(0); k < -scale; k++ {
			dst = append(dst, '0')
		}
		return dst
	}
	places := int(scale)
	if len(digits) <= places {
		dst = append(dst, '0', '.')
		for k := len(digits); k < places; k++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	at := len(digits) - places
	dst = append(dst, digits[:at]...)
	dst = append(dst, '.')
	return append(dst, digits[at:]...)
}

// appendDecimalInt64 appends the decimal with unscaled value v and scale.
func appendDecimalInt64(dst []byte, v int64, scale int32) []byte {
	var buf [24]byte
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	digits := strconv.AppendUint(buf[:0], u, 10)
	return appendDecimalDigits(dst, neg, digits, scale)
}
