package path

import (
	"github.com/ducktail/ducktail/base"
)

// SubKey returns the storage key of the substream argument a, the {key} of
// the segment folder `sub={key}`. It is a's canonical literal (see
// Canonical) with every byte escaped as %XX (upper-case hex) except
// a-z, 0-9, '-', '_' and '.'; a '.' is escaped too when it is the first or
// last byte or follows a '.'. So a key is never empty, never holds '/',
// '\\', NUL, "..", upper-case letters (it is safe on case-insensitive file
// systems) or non-ASCII bytes (safe from Unicode normalisation), never
// starts or ends with '.', and percent-decodes to the canonical literal
// (as DuckDB's hive partitioning reads it):
//
//	'bob' → %27bob%27    bob → bob    42 → 42    -1.5 → -1.5    1e+21 → 1e%2B21
//
// Arguments that are the same JavaScript value have the same key. It
// returns "" for an Arg of no valid kind.
func (a Arg) SubKey() string {
	var buf [128]byte
	canon := a.appendCanonical(buf[:0])
	out := make([]byte, 0, escapedLen(canon))
	return string(appendEscapedKey(out, canon))
}

// ParseSubKey parses a key made by SubKey back into the argument, whose Raw
// is its canonical literal. Keys that SubKey would not have made (other
// escapes, other characters) are refused with an error wrapping
// base.ErrInvalid, so keys and arguments correspond one to one.
func ParseSubKey(s string) (Arg, error) {
	if s == "" {
		return Arg{}, base.Errorf(base.ErrInvalid, "substream key is empty")
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			v, ok := hexValue(s, i+1, 2)
			if !ok || isLowerHex(s[i+1]) || isLowerHex(s[i+2]) {
				return Arg{}, base.Errorf(base.ErrInvalid, "substream key %s: at %d: want %%XX with two upper-case hex digits", clip(s), i)
			}
			b = append(b, byte(v))
			i += 2
		case keyByte(c):
			b = append(b, c)
		default:
			return Arg{}, base.Errorf(base.ErrInvalid, "substream key %s: at %d: character %q must be escaped", clip(s), i, rune(c))
		}
	}
	p := parser{src: string(b), what: "substream key literal"}
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
	a.Raw = a.Canonical()
	if a.SubKey() != s {
		return Arg{}, base.Errorf(base.ErrInvalid, "substream key %s is not canonical (want %s)", clip(s), clip(a.SubKey()))
	}
	return a, nil
}

// subKeyLen returns len(a.SubKey()) without allocating for usual sizes.
func subKeyLen(a Arg) int {
	var buf [128]byte
	return escapedLen(a.appendCanonical(buf[:0]))
}

func escapedLen(canon []byte) int {
	n := 0
	for i := range canon {
		if keepByte(canon, i) {
			n++
		} else {
			n += 3
		}
	}
	return n
}

func appendEscapedKey(dst, canon []byte) []byte {
	const hex = "0123456789ABCDEF"
	for i, c := range canon {
		if keepByte(canon, i) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// keepByte reports whether canon[i] is written as itself in a key.
func keepByte(canon []byte, i int) bool {
	c := canon[i]
	if c == '.' {
		return i > 0 && i < len(canon)-1 && canon[i-1] != '.'
	}
	return keyByte(c)
}

// keyByte reports whether c may appear unescaped in a key.
func keyByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
}

func isLowerHex(c byte) bool { return c >= 'a' && c <= 'f' }
