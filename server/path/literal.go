package path

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ducktail/ducktail/base"
)

// ParseArg parses one JavaScript literal or account identifier, as it is
// written inside a substream's parentheses: 'text', "text", 42, -1.5e3,
// true, false, null or bob. White space around it is not allowed.
func ParseArg(s string) (Arg, error) {
	p := parser{src: s, what: "argument"}
	if err := p.checkChars(); err != nil {
		return Arg{}, err
	}
	a, err := p.literal()
	if err != nil {
		return Arg{}, err
	}
	if p.pos != len(p.src) {
		return Arg{}, p.errf(p.pos, "unexpected %s after the literal", p.show(p.pos))
	}
	return a, nil
}

// literal reads a Literal at p.pos.
func (p *parser) literal() (Arg, error) {
	start := p.pos
	if start >= len(p.src) {
		return Arg{}, p.errf(start, "expected a JavaScript literal or an account name")
	}
	c := p.src[start]
	if c == '\'' || c == '"' {
		v, err := p.str()
		if err != nil {
			return Arg{}, err
		}
		return Arg{Kind: String, Raw: p.src[start:p.pos], Value: v}, nil
	}
	if c == '-' || c == '.' || isDigit(c) {
		end := p.numberEnd(start)
		if end > start && (end == len(p.src) || !isWordByte(p.src[end])) {
			f := numberValue(p.src[start:end])
			if math.IsInf(f, 0) {
				return Arg{}, p.errf(start, "number %s is out of range", clip(p.src[start:end]))
			}
			if f == 0 {
				f = 0 // -0 is 0
			}
			p.pos = end
			return Arg{Kind: Number, Raw: p.src[start:end], Value: f}, nil
		}
	}
	if !isWordByte(c) || c == '-' {
		return Arg{}, p.errf(start, "expected a JavaScript literal or an account name, not %s", p.show(start))
	}
	end := start
	for end < len(p.src) && isWordByte(p.src[end]) {
		end++
	}
	w := p.src[start:end]
	var a Arg
	switch w {
	case "true":
		a = Arg{Kind: Bool, Raw: w, Value: true}
	case "false":
		a = Arg{Kind: Bool, Raw: w, Value: false}
	case "null":
		a = Arg{Kind: Null, Raw: w}
	default:
		if err := base.ValidateAccount(w); err != nil {
			return Arg{}, p.errf(start, "%w", err)
		}
		a = Arg{Kind: Account, Raw: w, Value: w}
	}
	p.pos = end
	return a, nil
}

// numberEnd returns the end of the JavaScript numeric literal (with an
// optional '-') that starts at src[i], or i if none does: a decimal literal
// (1, 1.5, 1., .5, 1e3, 1_000) or a hex, octal or binary integer (0x1f,
// 0o17, 0b101). BigInt literals (10n) are not numbers: the token goes on.
func (p *parser) numberEnd(i int) int {
	s := p.src
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	if j+1 < len(s) && s[j] == '0' {
		if base := basePrefix(s[j+1]); base != 0 {
			if k := digitsEnd(s, j+2, base); k > j+2 {
				return k
			}
			return i
		}
	}
	intEnd := j
	if j < len(s) && s[j] == '0' {
		intEnd = j + 1 // no separator nor digit after a leading 0: 01 and 0_1 are not numbers
	} else {
		intEnd = digitsEnd(s, j, 10)
	}
	k := intEnd
	if k < len(s) && s[k] == '.' {
		k = digitsEnd(s, k+1, 10)
		if k == intEnd+1 && intEnd == j {
			return i // a lone "."
		}
	} else if intEnd == j {
		return i
	}
	if k < len(s) && (s[k] == 'e' || s[k] == 'E') {
		m := k + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if e := digitsEnd(s, m, 10); e > m {
			k = e
		}
	}
	return k
}

// basePrefix returns the base that the letter after a leading 0 selects
// (x, o, b in either case), or 0.
func basePrefix(c byte) int {
	switch c | 0x20 {
	case 'x':
		return 16
	case 'o':
		return 8
	case 'b':
		return 2
	}
	return 0
}

// digitsEnd returns the end of a run of digits of the base starting at
// s[i], in which single '_' separators may stand between two digits.
func digitsEnd(s string, i, base int) int {
	j := i
	for j < len(s) {
		if digitValue(s[j]) < base {
			j++
			continue
		}
		if s[j] == '_' && j > i && j+1 < len(s) && digitValue(s[j+1]) < base {
			j++
			continue
		}
		break
	}
	return j
}

func digitValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}

// numberValue returns the float64 a literal checked by numberEnd stands
// for, rounded to nearest as JavaScript rounds it (±Inf if it overflows).
func numberValue(lit string) float64 {
	neg := strings.HasPrefix(lit, "-")
	digits := strings.ReplaceAll(strings.TrimPrefix(lit, "-"), "_", "")
	var f float64
	if len(digits) > 1 && digits[0] == '0' && basePrefix(digits[1]) != 0 {
		var n big.Int
		n.SetString(digits[2:], basePrefix(digits[1])) // syntax checked by numberEnd
		f, _ = new(big.Float).SetInt(&n).Float64()
	} else {
		f, _ = strconv.ParseFloat(digits, 64) // syntax checked by numberEnd; ErrRange gives ±Inf or 0
	}
	if neg {
		f = -f
	}
	return f
}

// str reads a quoted string at p.pos and returns its value.
func (p *parser) str() (string, error) {
	open := p.pos
	q := p.src[open]
	i := open + 1
	for i < len(p.src) && p.src[i] != q && p.src[i] != '\\' {
		i++
	}
	if i < len(p.src) && p.src[i] == q {
		p.pos = i + 1
		return p.src[open+1 : i], nil
	}
	b := make([]byte, 0, len(p.src)-open)
	b = append(b, p.src[open+1:i]...)
	for i < len(p.src) {
		switch c := p.src[i]; c {
		case q:
			p.pos = i + 1
			return string(b), nil
		case '\\':
			var err error
			if b, i, err = p.escape(b, i); err != nil {
				return "", err
			}
		default:
			b = append(b, c)
			i++
		}
	}
	return "", p.errf(len(p.src), "unterminated string (opened at %d)", open)
}

// escape decodes the escape sequence at p.src[i] == '\\' onto b.
func (p *parser) escape(b []byte, i int) ([]byte, int, error) {
	if i+1 >= len(p.src) {
		return b, i, p.errf(len(p.src), "unterminated string")
	}
	switch e := p.src[i+1]; e {
	case '\'', '"', '\\':
		return append(b, e), i + 2, nil
	case 'n':
		return append(b, '\n'), i + 2, nil
	case 't':
		return append(b, '\t'), i + 2, nil
	case 'r':
		return append(b, '\r'), i + 2, nil
	case 'b':
		return append(b, '\b'), i + 2, nil
	case 'f':
		return append(b, '\f'), i + 2, nil
	case 'v':
		return append(b, '\v'), i + 2, nil
	case '0':
		if i+2 < len(p.src) && isDigit(p.src[i+2]) {
			return b, i, p.errf(i, "octal escapes are not allowed")
		}
		return append(b, 0), i + 2, nil
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return b, i, p.errf(i, "octal escapes are not allowed")
	case 'x':
		v, ok := hexValue(p.src, i+2, 2)
		if !ok {
			return b, i, p.errf(i, `expected two hex digits after \x`)
		}
		return utf8.AppendRune(b, rune(v)), i + 4, nil
	case 'u':
		r, next, err := p.unicodeEscape(i)
		if err != nil {
			return b, i, err
		}
		if r >= 0xDC00 && r < 0xE000 {
			return b, i, p.errf(i, "lone surrogate \\u%04X", r)
		}
		if r >= 0xD800 && r < 0xDC00 {
			if !strings.HasPrefix(p.src[next:], `\u`) {
				return b, i, p.errf(i, "lone surrogate \\u%04X", r)
			}
			lo, next2, err := p.unicodeEscape(next)
			if err != nil {
				return b, i, err
			}
			if lo < 0xDC00 || lo >= 0xE000 {
				return b, i, p.errf(i, "lone surrogate \\u%04X", r)
			}
			r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			next = next2
		}
		return utf8.AppendRune(b, r), next, nil
	}
	r, n := utf8.DecodeRuneInString(p.src[i+1:])
	if r == '\u2028' || r == '\u2029' {
		return b, i + 1 + n, nil // a line continuation
	}
	return append(b, p.src[i+1:i+1+n]...), i + 1 + n, nil // identity escape
}

// unicodeEscape reads \uXXXX or \u{X...} at p.src[i] and returns the code
// point and the index after it.
func (p *parser) unicodeEscape(i int) (rune, int, error) {
	j := i + 2
	if j < len(p.src) && p.src[j] == '{' {
		k := j + 1
		for k < len(p.src) && k-j <= 7 && isHex(p.src[k]) {
			k++
		}
		if k == j+1 || k >= len(p.src) || p.src[k] != '}' {
			return 0, i, p.errf(i, `expected hex digits and '}' after \u{`)
		}
		v, _ := hexValue(p.src, j+1, k-j-1)
		if v > unicode.MaxRune {
			return 0, i, p.errf(i, "code point %s is out of range", p.src[j+1:k])
		}
		return rune(v), k + 1, nil
	}
	v, ok := hexValue(p.src, j, 4)
	if !ok {
		return 0, i, p.errf(i, `expected four hex digits after \u`)
	}
	return rune(v), j + 4, nil
}

func hexValue(s string, i, n int) (uint32, bool) {
	if i+n > len(s) {
		return 0, false
	}
	var v uint32
	for _, c := range []byte(s[i : i+n]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint32(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// appendQuoted appends s as a canonical single-quoted JavaScript string.
func appendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '\'')
	for i := 0; i < len(s); {
		r, n := decodeRune(s, i)
		switch {
		case r == '\\':
			dst = append(dst, `\\`...)
		case r == '\'':
			dst = append(dst, `\'`...)
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r == '\b':
			dst = append(dst, `\b`...)
		case r == '\f':
			dst = append(dst, `\f`...)
		case r == '\v':
			dst = append(dst, `\v`...)
		case r < 0:
			dst = append(dst, `\ufffd`...) // invalid UTF-8 in a hand-built Arg
		case isControl(r) || r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '\'')
}

// appendJSNumber appends f as JavaScript's Number.prototype.toString
// writes it (f is finite).
func appendJSNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64) // 1.5e-07, 1e+21
	e := start + strings.IndexByte(string(dst[start:]), 'e')
	d := e + 2 // first exponent digit, after the sign
	z := d
	for z < len(dst)-1 && dst[z] == '0' {
		z++
	}
	return append(dst[:d], dst[z:]...)
}

// ValidateEventType checks an event type: 1 to 100 characters (runes) of
// valid UTF-8 with no control characters.
func ValidateEventType(t string) error {
	if t == "" {
		return base.Errorf(base.ErrInvalid, "event type is empty")
	}
	n := 0
	for i := 0; i < len(t); {
		r, size := decodeRune(t, i)
		if r < 0 {
			return base.Errorf(base.ErrInvalid, "event type %s: invalid UTF-8 at byte %d", clip(t), i)
		}
		if isControl(r) {
			return base.Errorf(base.ErrInvalid, "event type %s: control character %q at byte %d is not allowed", clip(t), r, i)
		}
		i += size
		n++
	}
	if n > base.MaxEventTypeLen {
		return base.Errorf(base.ErrInvalid, "event type %s is %d characters long, at most %d",
			clip(t), n, base.MaxEventTypeLen)
	}
	return nil
}

// typeChar reports whether r may appear in a bare event type segment.
func typeChar(r rune) bool {
	if r < 0 || isControl(r) || unicode.IsSpace(r) {
		return false
	}
	switch r {
	case '[', ']', '(', ')', '.', '?', '#', '\'', '"', '\\', '/':
		return false
	}
	return true
}

// decodeRune decodes the rune at s[i]; an invalid byte is rune -1, size 1.
func decodeRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n <= 1 {
		return -1, 1
	}
	return r, n
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// isWordByte reports whether c may continue an identifier token.
func isWordByte(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-'
}
