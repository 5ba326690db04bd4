package schema

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ducktail/ducktail/base"
)

// Limits on type names, so that a hostile config or admin request cannot make
// the parser recurse or allocate without bound.
const (
	// MaxTypeNameLen is the longest type name ParseType accepts, in bytes.
	MaxTypeNameLen = 16 << 10
	// MaxTypeDepth is the deepest nesting ParseType accepts: list<list<...>>.
	MaxTypeDepth = 32
	// maxWidth bounds fixed_size_binary[n] and fixed_size_list<T>[n].
	maxWidth = 1 << 30
)

// ParseType parses an Arrow type name written in the grammar of the package
// documentation. FormatType is its inverse. Errors wrap base.ErrInvalid and
// say where in the text the problem is.
func ParseType(s string) (arrow.DataType, error) {
	if len(s) > MaxTypeNameLen {
		return nil, base.Errorf(base.ErrInvalid, "type name is longer than %d bytes", MaxTypeNameLen)
	}
	p := parser{s: s}
	t, err := p.typ()
	if err == nil {
		p.space()
		if p.pos < len(p.s) {
			err = p.errorf("unexpected %s after the type", p.found())
		}
	}
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "type %q: %w", s, err)
	}
	return t, nil
}

// parser is a recursive-descent parser over one type name.
type parser struct {
	s     string
	pos   int
	depth int
}

// syntaxError is a parse error at a byte offset of the type name.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s (at offset %d)", e.msg, e.pos) }

func (p *parser) errorf(format string, args ...any) error {
	return &syntaxError{pos: p.pos, msg: fmt.Sprintf(format, args...)}
}

// found describes the input at the current position, for error messages.
func (p *parser) found() string {
	if p.pos >= len(p.s) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek reports whether the next non-space byte is c.
func (p *parser) peek(c byte) bool {
	p.space()
	return p.pos < len(p.s) && p.s[p.pos] == c
}

// accept consumes c if it is next.
func (p *parser) accept(c byte) bool {
	if p.peek(c) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(c byte) error {
	if !p.accept(c) {
		return p.errorf("want %q, found %s", c, p.found())
	}
	return nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// word reads a run of [A-Za-z0-9_] after optional space; "" if none.
func (p *parser) word() string {
	p.space()
	start := p.pos
	for p.pos < len(p.s) && isWordByte(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// acceptWord consumes w if it is the next word.
func (p *parser) acceptWord(w string) bool {
	save := p.pos
	if p.word() == w {
		return true
	}
	p.pos = save
	return false
}

func (p *parser) expectWord(w string) error {
	save := p.pos
	if !p.acceptWord(w) {
		p.space()
		got := p.found()
		if wd := p.word(); wd != "" {
			got = strconv.Quote(wd)
		}
		p.pos = save
		p.space()
		return p.errorf("want %q, found %s", w, got)
	}
	return nil
}

// int reads a decimal integer in [lo, hi]; what names it in errors.
func (p *parser) int(what string, lo, hi int) (int, error) {
	p.space()
	start := p.pos
	if p.pos < len(p.s) && p.s[p.pos] == '-' {
		p.pos++
	}
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	digits := p.s[start:p.pos]
	if digits == "" || digits == "-" {
		p.pos = start
		return 0, p.errorf("want %s (a number), found %s", what, p.found())
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < lo || n > hi {
		p.pos = start
		return 0, p.errorf("%s %s is out of range [%d, %d]", what, digits, lo, hi)
	}
	return n, nil
}

// name reads a field name: a quoted string ("..." with Go escapes) or a bare
// run of letters, digits and _ - . $.
func (p *parser) name() (string, error) {
	p.space()
	start := p.pos
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		p.pos++
		for p.pos < len(p.s) && p.s[p.pos] != '"' {
			if p.s[p.pos] == '\\' {
				p.pos++
			}
			p.pos++
		}
		if p.pos >= len(p.s) {
			p.pos = start
			return "", p.errorf("unterminated quoted name")
		}
		p.pos++
		n, err := strconv.Unquote(p.s[start:p.pos])
		if err != nil {
			p.pos = start
			return "", p.errorf("bad quoted name %s", p.s[start:p.pos])
		}
		return n, nil
	}
	for p.pos < len(p.s) {
		r, size := utf8.DecodeRuneInString(p.s[p.pos:])
		if !isBareNameRune(r) {
			break
		}
		p.pos += size
	}
	if p.pos == start {
		return "", p.errorf("want a field name, found %s", p.found())
	}
	return p.s[start:p.pos], nil
}

func isBareNameRune(r rune) bool {
	switch r {
	case '_', '-', '.', '$':
		return true
	case utf8.RuneError:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// nullability reads an optional "not null" and returns whether the child is
// nullable.
func (p *parser) nullability() (bool, error) {
	if !p.acceptWord("not") {
		return true, nil
	}
	if err := p.expectWord("null"); err != nil {
		return false, err
	}
	return false, nil
}

// child reads "T" or "T not null".
func (p *parser) child() (arrow.DataType, bool, error) {
	t, err := p.typ()
	if err != nil {
		return nil, false, err
	}
	nullable, err := p.nullability()
	return t, nullable, err
}

// simpleType returns the type named w if it takes no parameters, else nil.
// The values are arrow-go's shared type values, which are never mutated.
func simpleType(w string) arrow.DataType {
	switch w {
	case "null":
		return arrow.Null
	case "bool":
		return arrow.FixedWidthTypes.Boolean
	case "int8":
		return arrow.PrimitiveTypes.Int8
	case "int16":
		return arrow.PrimitiveTypes.Int16
	case "int32":
		return arrow.PrimitiveTypes.Int32
	case "int64":
		return arrow.PrimitiveTypes.Int64
	case "uint8":
		return arrow.PrimitiveTypes.Uint8
	case "uint16":
		return arrow.PrimitiveTypes.Uint16
	case "uint32":
		return arrow.PrimitiveTypes.Uint32
	case "uint64":
		return arrow.PrimitiveTypes.Uint64
	case "float16":
		return arrow.FixedWidthTypes.Float16
	case "float32":
		return arrow.PrimitiveTypes.Float32
	case "float64":
		return arrow.PrimitiveTypes.Float64
	case "utf8", "string":
		return arrow.BinaryTypes.String
	case "large_utf8", "large_string":
		return arrow.BinaryTypes.LargeString
	case "binary":
		return arrow.BinaryTypes.Binary
	case "large_binary":
		return arrow.BinaryTypes.LargeBinary
	case "utf8_view", "string_view":
		return arrow.BinaryTypes.StringView
	case "binary_view":
		return arrow.BinaryTypes.BinaryView
	case "date32":
		return arrow.FixedWidthTypes.Date32
	case "date64":
		return arrow.FixedWidthTypes.Date64
	}
	return nil
}

// typ reads one type.
func (p *parser) typ() (arrow.DataType, error) {
	if p.depth >= MaxTypeDepth {
		return nil, p.errorf("type is nested more than %d deep", MaxTypeDepth)
	}
	p.depth++
	defer func() { p.depth-- }()

	start := p.pos
	w := p.word()
	if w == "" {
		return nil, p.errorf("want a type name, found %s", p.found())
	}
	if t := simpleType(w); t != nil {
		return t, nil
	}
	switch w {
	case "time32", "time64", "timestamp", "duration":
		return p.temporal(w)
	case "interval":
		return p.interval()
	case "decimal", "decimal32", "decimal64", "decimal128", "decimal256":
		return p.decimal(w)
	case "fixed_size_binary":
		if err := p.expect('['); err != nil {
			return nil, err
		}
		n, err := p.int("byte width", 1, maxWidth)
		if err != nil {
			return nil, err
		}
		if err := p.expect(']'); err != nil {
			return nil, err
		}
		return &arrow.FixedSizeBinaryType{ByteWidth: n}, nil
	case "list", "large_list", "list_view", "large_list_view", "fixed_size_list":
		return p.list(w)
	case "map":
		return p.mapType()
	case "struct":
		return p.structType()
	case "dictionary":
		return p.dictionary()
	case "run_end_encoded":
		return p.runEndEncoded()
	case "dense_union", "sparse_union":
		return p.union(w)
	}
	p.pos = start
	p.space()
	return nil, p.errorf("unknown type name %q", w)
}

// unit reads "[unit]" or "[unit" (the caller reads the rest) for temporal types.
func (p *parser) unit(allowed ...string) (arrow.TimeUnit, error) {
	save := p.pos
	w := p.word()
	for _, a := range allowed {
		if w == a {
			return timeUnit(w), nil
		}
	}
	p.pos = save
	p.space()
	return 0, p.errorf("unknown time unit %q (want %s)", w, strings.Join(allowed, ", "))
}

func (p *parser) temporal(w string) (arrow.DataType, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	allowed := []string{"s", "ms", "us", "ns"}
	switch w {
	case "time32":
		allowed = allowed[:2]
	case "time64":
		allowed = allowed[2:]
	}
	u, err := p.unit(allowed...)
	if err != nil {
		return nil, err
	}
	var tz string
	if w == "timestamp" && p.accept(',') {
		if tz, err = p.timeZone(); err != nil {
			return nil, err
		}
	}
	if err := p.expect(']'); err != nil {
		return nil, err
	}
	switch w {
	case "time32":
		return &arrow.Time32Type{Unit: u}, nil
	case "time64":
		return &arrow.Time64Type{Unit: u}, nil
	case "duration":
		return &arrow.DurationType{Unit: u}, nil
	}
	return &arrow.TimestampType{Unit: u, TimeZone: tz}, nil
}

// timeZone reads `tz=NAME` or `tz="NAME"`.
func (p *parser) timeZone() (string, error) {
	if err := p.expectWord("tz"); err != nil {
		return "", err
	}
	if err := p.expect('='); err != nil {
		return "", err
	}
	p.space()
	var tz string
	if p.peek('"') {
		n, err := p.name()
		if err != nil {
			return "", err
		}
		tz = n
	} else {
		start := p.pos
		for p.pos < len(p.s) && strings.IndexByte("],<>\" \t\r\n", p.s[p.pos]) < 0 {
			p.pos++
		}
		tz = p.s[start:p.pos]
	}
	if tz == "" {
		return "", p.errorf("time zone is empty")
	}
	return tz, nil
}

func (p *parser) interval() (arrow.DataType, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	save := p.pos
	var t arrow.DataType
	switch w := p.word(); w {
	case "month":
		t = arrow.FixedWidthTypes.MonthInterval
	case "day_time":
		t = arrow.FixedWidthTypes.DayTimeInterval
	case "month_day_nano":
		t = arrow.FixedWidthTypes.MonthDayNanoInterval
	default:
		p.pos = save
		p.space()
		return nil, p.errorf("unknown interval unit %q (want month, day_time, month_day_nano)", w)
	}
	if err := p.expect(']'); err != nil {
		return nil, err
	}
	return t, nil
}

// timeUnit maps a unit name (s, ms, us, ns) to its arrow.TimeUnit.
func timeUnit(w string) arrow.TimeUnit {
	switch w {
	case "s":
		return arrow.Second
	case "ms":
		return arrow.Millisecond
	case "us":
		return arrow.Microsecond
	}
	return arrow.Nanosecond
}

// decimalMaxPrecision is the largest precision of each decimal type name.
func decimalMaxPrecision(w string) int {
	switch w {
	case "decimal32":
		return 9
	case "decimal64":
		return 18
	case "decimal256":
		return 76
	}
	return 38
}

func (p *parser) decimal(w string) (arrow.DataType, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	maxP := decimalMaxPrecision(w)
	if w == "decimal" {
		w = "decimal128"
	}
	prec, err := p.int(w+" precision", 1, maxP)
	if err != nil {
		return nil, err
	}
	scale := 0
	if p.accept(',') {
		if scale, err = p.int(w+" scale", 0, prec); err != nil {
			return nil, err
		}
	}
	if err := p.expect(')'); err != nil {
		return nil, err
	}
	pr, sc := int32(prec), int32(scale)
	switch w {
	case "decimal32":
		return &arrow.Decimal32Type{Precision: pr, Scale: sc}, nil
	case "decimal64":
		return &arrow.Decimal64Type{Precision: pr, Scale: sc}, nil
	case "decimal256":
		return &arrow.Decimal256Type{Precision: pr, Scale: sc}, nil
	}
	return &arrow.Decimal128Type{Precision: pr, Scale: sc}, nil
}
