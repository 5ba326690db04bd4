package jtd

import (
	"encoding/json"
	"math"
)

// number is what validation needs to know about a JSON number.
type number struct {
	isInt bool  // the value has a zero fractional part
	big   bool  // an integer outside the int64 range: fits no JTD integer type
	n     int64 // the value, when isInt && !big
}

// numberValue reports whether v is a JSON number and, if so, classifies it.
// It accepts json.Number (judged on its exact decimal value), float64,
// float32 and Go's integer types. NaN and infinities are not JSON numbers.
func numberValue(v any) (number, bool) {
	switch x := v.(type) {
	case json.Number:
		return decimalNumber(string(x))
	case float64:
		return floatNumber(x)
	case float32:
		return floatNumber(float64(x))
	case int:
		return number{isInt: true, n: int64(x)}, true
	case int8:
		return number{isInt: true, n: int64(x)}, true
	case int16:
		return number{isInt: true, n: int64(x)}, true
	case int32:
		return number{isInt: true, n: int64(x)}, true
	case int64:
		return number{isInt: true, n: x}, true
	case uint:
		return uintNumber(uint64(x)), true
	case uint8:
		return number{isInt: true, n: int64(x)}, true
	case uint16:
		return number{isInt: true, n: int64(x)}, true
	case uint32:
		return number{isInt: true, n: int64(x)}, true
	case uint64:
		return uintNumber(x), true
	}
	return number{}, false
}

func uintNumber(x uint64) number {
	if x > math.MaxInt64 {
		return number{isInt: true, big: true}
	}
	return number{isInt: true, n: int64(x)}
}

func floatNumber(f float64) (number, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return number{}, false
	}
	if f != math.Trunc(f) {
		return number{}, true
	}
	if f < -(1<<63) || f >= 1<<63 {
		return number{isInt: true, big: true}, true
	}
	return number{isInt: true, n: int64(f)}, true
}

// maxExp bounds the exponent we track; beyond it a value is either far too
// large for any JTD integer type or, if its digits are non-zero, fractional.
const maxExp = 1_000_000_000

// decimalNumber classifies a JSON number text exactly, without rounding:
// "1.0", "1e2" and "100E-2" are integers, "1.5" and "1e-1" are not.
func decimalNumber(s string) (number, bool) {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[intStart:i]
	if len(intPart) == 0 || (len(intPart) > 1 && intPart[0] == '0') {
		return number{}, false
	}
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[fs:i]
		if len(frac) == 0 {
			return number{}, false
		}
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && isDigit(s[i]) {
			if exp < maxExp {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == es {
			return number{}, false
		}
		exp = min(exp, maxExp)
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return number{}, false
	}
	// The value is D * 10^(exp-len(frac)), D the digits of intPart+frac.
	digit := func(k int) byte {
		if k < len(intPart) {
			return intPart[k]
		}
		return frac[k-len(intPart)]
	}
	nd := len(intPart) + len(frac)
	first := 0
	for first < nd && digit(first) == '0' {
		first++
	}
	if first == nd {
		return number{isInt: true}, true // zero
	}
	last := nd - 1
	for digit(last) == '0' {
		last--
	}
	scale := exp - len(frac) + (nd - 1 - last) // exponent of D without trailing zeros
	if scale < 0 {
		return number{}, true
	}
	sig := last - first + 1
	if sig+scale > 18 {
		return number{isInt: true, big: true}, true
	}
	var n int64
	for k := first; k <= last; k++ {
		n = n*10 + int64(digit(k)-'0')
	}
	for range scale {
		n *= 10
	}
	if neg {
		n = -n
	}
	return number{isInt: true, n: n}, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// intRange returns the inclusive bounds of a JTD integer type.
func intRange(t Type) (lo, hi int64) {
	switch t {
	case TypeInt8:
		return math.MinInt8, math.MaxInt8
	case TypeUint8:
		return 0, math.MaxUint8
	case TypeInt16:
		return math.MinInt16, math.MaxInt16
	case TypeUint16:
		return 0, math.MaxUint16
	case TypeInt32:
		return math.MinInt32, math.MaxInt32
	default: // TypeUint32
		return 0, math.MaxUint32
	}
}
