package path

import (
	"strconv"
	"strings"

	"github.com/ducktail/ducktail/base"
)

// parser reads src from pos. what names the input in error messages.
// esc[i] is 1 when src[i] came from a %XX escape that is data (see
// isDataEscape); esc is nil when none did. Such a byte is never a
// delimiter (see delim).
type parser struct {
	src  string
	esc  []byte
	what string
	pos  int
}

// block holds a Path and its usual parts in one allocation, small enough
// that a plain path pays little for the room (a pipe target is allocated
// apart; more calls or arguments move to the heap).
type block struct {
	path  Path
	sub   Arg
	calls [2]Call
	args  [4]Arg
	used  int // args in use
}

// pipeBlock is a pipe target and its argument.
type pipeBlock struct {
	target Target
	sub    Arg
}

// Parse parses a stream path; see the package doc for the grammar and the
// decisions it makes. Every error wraps base.ErrInvalid.
func Parse(s string) (*Path, error) {
	if len(s) > MaxPathLen {
		return nil, base.Errorf(base.ErrInvalid, "path %s: is %d bytes long, at most %d", clip(s), len(s), MaxPathLen)
	}
	src, esc := percentDecode(s)
	p := parser{src: src, esc: esc, what: "path"}
	if err := p.checkChars(); err != nil {
		return nil, err
	}
	blk := &block{}
	blk.path.Index = -1
	if err := p.path(blk); err != nil {
		return nil, err
	}
	return &blk.path, nil
}

// positions of the optional parts, for errors about combinations.
type marks struct{ stream, typ, index, chain, suffix, pipe int }

func (p *parser) path(blk *block) error {
	out := &blk.path
	var m marks
	if err := p.streamRef(&out.Account, &out.Stream, &out.Sub, &blk.sub, &m.stream); err != nil {
		return err
	}
	if p.hasSegment("/logs") {
		out.Logs = true
		p.pos += len("/logs")
	}
	if p.peek() == ':' {
		m.typ = p.pos
		p.pos++
		t, err := p.eventType()
		if err != nil {
			return err
		}
		out.Type = t
	}
	if p.peek() == '[' {
		m.index = p.pos
		n, err := p.index()
		if err != nil {
			return err
		}
		out.Index = n
	}
	for p.peek() == '.' {
		dot := p.pos
		p.pos++
		name := p.ident()
		if p.peek() != '(' {
			switch name {
			case "reducer", "json", "ts":
				out.Suffix, m.suffix = name, dot
				if p.pos < len(p.src) {
					return p.errf(p.pos, "unexpected %s after .%s: a suffix ends the path", p.show(p.pos), name)
				}
				return p.combinations(out, m)
			case "slice", "eventType", "range", "limit":
				return p.errf(p.pos, "expected '(' after .%s", name)
			case "":
				return p.errf(p.pos, "expected a call or suffix after '.' (.slice(), .eventType(), .range(), .limit(), .reducer, .json or .ts)")
			}
			if out.Type != "" && m.chain == 0 && m.index == 0 && p.delim(m.typ+1) != '\'' && p.delim(m.typ+1) != '"' {
				return p.errf(dot, "unknown suffix .%s (want .reducer, .json or .ts; to put a '.' in an event type, quote it: :'...')", short(name))
			}
			return p.errf(dot, "unknown suffix .%s (want .reducer, .json or .ts)", short(name))
		}
		if m.chain == 0 {
			m.chain = dot
		}
		if len(out.Chain) == MaxCalls {
			return p.errf(dot, "more than %d chained calls", MaxCalls)
		}
		c, err := p.call(blk, dot, name)
		if err != nil {
			return err
		}
		if out.Chain == nil {
			out.Chain = blk.calls[:0]
		}
		out.Chain = append(out.Chain, c)
	}
	if p.peek() == '/' {
		switch {
		case p.hasPipe(p.pos):
			m.pipe = p.pos
			p.pos += len("/pipe")
			pb := &pipeBlock{}
			t := &pb.target
			if err := p.streamRef(&t.Account, &t.Stream, &t.Sub, &pb.sub, new(int)); err != nil {
				return err
			}
			out.Pipe = t
		case p.hasSegment("/logs"):
			return p.errf(p.pos, "/logs must come right after the stream and its argument")
		case p.pos+1 == len(p.src):
			return p.errf(p.pos, "unexpected trailing '/'")
		default:
			return p.errf(p.pos, "unknown sub-resource (want /logs or /pipe/{account}/{stream})")
		}
	}
	if p.pos < len(p.src) {
		return p.errf(p.pos, "unexpected %s%s", p.show(p.pos), p.encodedNote(p.pos))
	}
	return p.combinations(out, m)
}

// combinations checks which optional parts may appear together.
func (p *parser) combinations(out *Path, m marks) error {
	switch out.Suffix {
	case "json", "ts":
		switch {
		case out.Type == "":
			return p.errf(m.suffix, ".%s needs an event type: /{account}/{stream}:{type}.%s", out.Suffix, out.Suffix)
		case out.Index >= 0:
			return p.errf(m.suffix, ".%s cannot follow an index", out.Suffix)
		case len(out.Chain) > 0:
			return p.errf(m.suffix, ".%s cannot follow chained calls", out.Suffix)
		}
	case "reducer":
		switch {
		case out.Type != "":
			return p.errf(m.typ, "a reducer has no event type: remove the :type before .reducer")
		case out.Index >= 0:
			return p.errf(m.index, "a reducer has no index: remove the [n] before .reducer")
		}
	}
	if out.Index >= 0 && out.Pipe != nil {
		return p.errf(m.pipe, "a pipe cannot start at an index")
	}
	if err := checkBuiltin(out.Account, out.Stream, out.Sub); err != nil {
		return p.errf(m.stream, "%w", err)
	}
	if out.Pipe != nil {
		if err := checkBuiltin(out.Pipe.Account, out.Pipe.Stream, out.Pipe.Sub); err != nil {
			return p.errf(m.pipe+len("/pipe"), "%w", err)
		}
	}
	return nil
}

// checkBuiltin checks the streams of the reserved account sys.
func checkBuiltin(account, stream string, sub *Arg) error {
	if account != base.ReservedAccount {
		return nil
	}
	switch stream {
	case "cron":
		if sub == nil || sub.Kind != String {
			return base.Errorf(base.ErrInvalid, "/sys/cron needs a cron expression as a string argument: /sys/cron('0 9 * * 1')")
		}
	case "events":
		if sub == nil || sub.Kind != Account {
			return base.Errorf(base.ErrInvalid, "/sys/events needs an account name argument: /sys/events(bob)")
		}
	default:
		return base.Errorf(base.ErrInvalid, "sys has no built-in stream %q (want cron or events)", stream)
	}
	return nil
}

// streamRef reads "/" account "/" stream [ SubArg ] at p.pos.
func (p *parser) streamRef(account, stream *string, sub **Arg, slot *Arg, at *int) error {
	if p.peek() != '/' {
		return p.errf(p.pos, "expected '/' and an account name")
	}
	p.pos++
	start := p.pos
	for p.pos < len(p.src) && p.delim(p.pos) != '/' {
		p.pos++
	}
	if p.pos == start {
		return p.errf(start, "expected an account name")
	}
	if err := base.ValidateAccount(p.src[start:p.pos]); err != nil {
		return p.nameErr(start, err)
	}
	*account = p.src[start:p.pos]
	if p.peek() != '/' {
		return p.errf(p.pos, "expected '/' and a stream name after the account")
	}
	p.pos++
	start = p.pos
	*at = start
	for p.pos < len(p.src) && strings.IndexByte("(:[./", p.delim(p.pos)) < 0 {
		p.pos++
	}
	if p.pos == start {
		return p.errf(start, "expected a stream name")
	}
	if err := base.ValidateStream(p.src[start:p.pos]); err != nil {
		return p.nameErr(start, err)
	}
	*stream = p.src[start:p.pos]
	if p.peek() != '(' {
		return nil
	}
	p.pos++
	p.skipSpace()
	a, err := p.literal()
	if err != nil {
		return err
	}
	if n := subKeyLen(a); n > MaxSubKeyLen {
		return p.errf(p.pos-len(a.Raw), "substream argument is too long: its storage key would be %d bytes, at most %d", n, MaxSubKeyLen)
	}
	p.skipSpace()
	if p.peek() != ')' {
		return p.errf(p.pos, "expected ')' after the substream argument")
	}
	p.pos++
	*slot = a
	*sub = slot
	return nil
}

// eventType reads a Type after ':'.
func (p *parser) eventType() (string, error) {
	start := p.pos
	if c := p.peek(); c == '\'' || c == '"' {
		t, err := p.str()
		if err != nil {
			return "", err
		}
		if err := ValidateEventType(t); err != nil {
			return "", p.errf(start, "%w", err)
		}
		return t, nil
	}
	segStart := p.pos
	for p.pos < len(p.src) {
		r, n := decodeRune(p.src, p.pos)
		if p.escaped(p.pos, n) {
			p.pos += n // data, whatever it is: ValidateEventType checks it
			continue
		}
		if r == '/' {
			if p.pos == segStart || p.hasPipe(p.pos) ||
				p.pos+1 == len(p.src) || p.delim(p.pos+1) == '/' {
				break
			}
			p.pos++
			segStart = p.pos
			continue
		}
		if typeChar(r) {
			p.pos += n
			continue
		}
		if r == '[' || r == '.' {
			break
		}
		return "", p.errf(p.pos, "%s is not allowed in an unquoted event type; quote the type: :'...'", p.show(p.pos))
	}
	if p.pos == start {
		return "", p.errf(start, "expected an event type after ':'")
	}
	t := p.src[start:p.pos]
	if err := ValidateEventType(t); err != nil {
		return "", p.errf(start, "%w", err)
	}
	return t, nil
}

// index reads "[" digits "]".
func (p *parser) index() (int64, error) {
	p.pos++
	start := p.pos
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return 0, p.errf(start, "expected a non-negative integer index after '['")
	}
	n, err := strconv.ParseInt(p.src[start:p.pos], 10, 64)
	if err != nil {
		return 0, p.errf(start, "index %s is out of range (at most %d)", clip(p.src[start:p.pos]), int64(1<<63-1))
	}
	if p.peek() != ']' {
		return 0, p.errf(p.pos, "expected ']' after the index")
	}
	p.pos++
	return n, nil
}

// call reads "(" args ")" of the call name that started at dot.
func (p *parser) call(blk *block, dot int, name string) (Call, error) {
	switch name {
	case "slice", "eventType", "range", "limit":
	default:
		return Call{}, p.errf(dot, "unknown call .%s() (want .slice, .eventType, .range or .limit)", short(name))
	}
	p.pos++ // '('
	c := Call{Name: name}
	var argPos [MaxArgs]int
	p.skipSpace()
	if p.peek() != ')' {
		for {
			if len(c.Args) == MaxArgs {
				return Call{}, p.errf(p.pos, "more than %d arguments", MaxArgs)
			}
			argPos[len(c.Args)] = p.pos
			a, err := p.literal()
			if err != nil {
				return Call{}, err
			}
			if c.Args == nil {
				// Share the block's argument array while it has room;
				// append moves the arguments to the heap when it has not.
				c.Args = blk.args[blk.used:blk.used:len(blk.args)]
			}
			c.Args = append(c.Args, a)
			p.skipSpace()
			if p.peek() == ')' {
				break
			}
			if p.peek() != ',' {
				return Call{}, p.errf(p.pos, "expected ',' or ')' in .%s()", name)
			}
			p.pos++
			p.skipSpace()
		}
	}
	p.pos++ // ')'
	if n := len(c.Args); n > 0 && blk.used+n <= len(blk.args) && &c.Args[0] == &blk.args[blk.used] {
		blk.used += n
	}
	if i, msg := checkCall(c); msg != "" {
		at := dot
		if i >= 0 {
			at = argPos[i]
		}
		return Call{}, p.errf(at, "%s", msg)
	}
	return c, nil
}

func (p *parser) ident() string {
	start := p.pos
	for p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// hasSegment reports whether src at pos starts with seg followed by the end
// or by a character that may follow it. The '/' of seg and the character after it must not be escaped.
func (p *parser) hasSegment(seg string) bool {
	if !strings.HasPrefix(p.src[p.pos:], seg) || p.delim(p.pos) != '/' {
		return false
	}
	end := p.pos + len(seg)
	return end == len(p.src) || strings.IndexByte(":[./", p.delim(end)) >= 0
}

// hasPipe reports whether an unescaped "/pipe/" starts at i.
func (p *parser) hasPipe(i int) bool {
	return strings.HasPrefix(p.src[i:], "/pipe/") && p.delim(i) == '/' && p.delim(i+5) == '/'
}

// peek returns the byte at p.pos as a delimiter (see delim).
func (p *parser) peek() byte { return p.delim(p.pos) }

// delim returns src[i] if it may be a delimiter of the grammar, or 0 at
// the end or when src[i] came from a %XX escape that is data (see
// isDataEscape). Every test for a delimiter goes through delim.
func (p *parser) delim(i int) byte {
	if i >= len(p.src) || (p.esc != nil && p.esc[i] != 0) {
		return 0
	}
	return p.src[i]
}

// escaped reports whether any of the n bytes at src[i] came from a %XX
// escape that is data (see isDataEscape).
func (p *parser) escaped(i, n int) bool {
	if p.esc == nil {
		return false
	}
	for _, e := range p.esc[i : i+n] {
		if e != 0 {
			return true
		}
	}
	return false
}

// encodedNote is a remark for an error at src[i]: that the character was
// percent-encoded, so it was read as data and not as a delimiter.
func (p *parser) encodedNote(i int) string {
	if i < len(p.src) && p.escaped(i, 1) {
		return " (it was percent-encoded: an encoded character is data, never a delimiter)"
	}
	return ""
}

// nameErr reports err, the error of validating the account or stream name
// at start (up to p.pos). When the first character that is not a name
// character came percent-encoded (%2F for '/'), it says so: the character
// was read as part of the name, not as a delimiter.
func (p *parser) nameErr(start int, err error) error {
	name := p.src[start:p.pos]
	if len(name) <= base.MaxNameLen {
		for i, c := range name {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (c == '_' || c == '-') && i > 0 {
				continue
			}
			if c < 0x80 && !isWordByte(byte(c)) && p.escaped(start+i, 1) {
				return p.errf(start, "%w; it came percent-encoded (%%%02X), and an encoded character is part of the name, never a delimiter", err, c)
			}
			break
		}
	}
	return p.errf(start, "%w", err)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// checkChars refuses invalid UTF-8 and control characters but tab.
func (p *parser) checkChars() error {
	for i := 0; i < len(p.src); {
		r, n := decodeRune(p.src, i)
		if r < 0 {
			return p.errf(i, "invalid UTF-8")
		}
		if isControl(r) && r != '\t' {
			return p.errf(i, "control character %q is not allowed", r)
		}
		i += n
	}
	return nil
}

// show names the character at i for an error message.
func (p *parser) show(i int) string {
	if i >= len(p.src) {
		return "end"
	}
	r, _ := decodeRune(p.src, i)
	return strconv.QuoteRune(r)
}

func (p *parser) errf(at int, format string, args ...any) error {
	return base.Errorf(base.ErrInvalid, "%s %s: at %d: "+format,
		append([]any{p.what, clip(p.src), at}, args...)...)
}

// clip quotes s for a message, cutting it after 64 bytes.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// short cuts s after 64 bytes for a message, without quoting it.
func short(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// percentDecode decodes every %XX with two hex digits and keeps any other
// '%'. It returns the decoded string and a mask aligned with it, holding 1
// for each byte that came from an escape and is data (see isDataEscape). It returns s itself and a nil
// mask when there is nothing to decode.
func percentDecode(s string) (string, []byte) {
	i := strings.IndexByte(s, '%')
	for i >= 0 && !isEscape(s, i) {
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			return s, nil
		}
		i += 1 + j
	}
	if i < 0 {
		return s, nil
	}
	// One buffer: the decoded bytes, then the mask (it is never longer).
	buf := make([]byte, 2*len(s))
	b, esc := buf[:0:len(s)], buf[len(s):]
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if s[i] == '%' {
			if v, ok := hexValue(s, i+1, 2); ok {
				if isDataEscape(byte(v)) {
					esc[len(b)] = 1
				}
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b), esc[:len(b):len(b)]
}

// isDataEscape reports whether c, decoded from %XX, is data and never a
// delimiter. Only '/' is: RFC 3986 §2.2 would keep every reserved
// character apart from its encoded form, but common clients encode
// reserved characters the grammar needs as delimiters (Go's net/http
// re-encodes '(', ')', '\”, '[' and ']' of a path that holds a space or a
// non-ASCII byte, Python's quote always does), while none encodes the '/'
// between path segments. So %2F is a character of a name or event type
// (and makes a name invalid), and any other %XX means its character.
func isDataEscape(c byte) bool { return c == '/' }

// isEscape reports whether s[i] == '%' starts a %XX escape.
func isEscape(s string, i int) bool {
	_, ok := hexValue(s, i+1, 2)
	return ok
}
