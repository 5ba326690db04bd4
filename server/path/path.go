package path

import (
	"strconv"
	"strings"
)

// Limits on what Parse accepts.
const (
	// MaxPathLen is the longest path Parse accepts, in bytes as given.
	MaxPathLen = 8192
	// MaxCalls is the most chained calls a path may hold.
	MaxCalls = 8
	// MaxArgs is the most arguments one chained call may take.
	MaxArgs = 32
	// MaxSubKeyLen is the longest storage key (Arg.SubKey) of a substream
	// argument, so that `sub={key}` fits a 255-byte file name.
	MaxSubKeyLen = 240
)

// ArgKind is the kind of a JavaScript literal argument.
type ArgKind uint8

// Argument kinds. The zero ArgKind is not a valid kind.
const (
	String  ArgKind = iota + 1 // Value is a string
	Number                     // Value is a float64
	Bool                       // Value is a bool
	Null                       // Value is nil
	Account                    // Value is the account name, a string
)

// String returns the kind's lower-case name.
func (k ArgKind) String() string {
	switch k {
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "bool"
	case Null:
		return "null"
	case Account:
		return "account"
	}
	return "ArgKind(" + strconv.Itoa(int(k)) + ")"
}

// Arg is a literal argument: a substream argument or a chained call's
// argument.
type Arg struct {
	Kind ArgKind
	Raw  string // the literal as written, e.g. 'arg', "arg", 1.0, bob
	// Value is the literal's value: string (String and Account), float64
	// (Number), bool (Bool) or nil (Null).
	Value any
}

// Call is one chained call: slice, eventType, range or limit.
type Call struct {
	Name string
	Args []Arg
}

// Target is the stream a pipe dispatches to.
type Target struct {
	Account, Stream string
	Sub             *Arg // substream argument, nil if none
}

// Path is a parsed stream path. See the package doc for the grammar.
type Path struct {
	Account, Stream string
	Sub             *Arg   // substream argument, nil if none
	Type            string // event type, "" if none
	Index           int64  // [n], -1 if none
	Chain           []Call // chained calls in order
	Suffix          string // "", "reducer", "json" or "ts"
	Logs            bool   // the /logs stream of the stream
	Pipe            *Target
}

// String renders p in canonical form: arguments as written (Raw), no
// white space, a bare event type when it can be written bare and a quoted
// one otherwise, and every '%' as %25 so that the result is not decoded a
// second time. Parse(p.String()) returns a Path equal to p.
func (p *Path) String() string {
	var b strings.Builder
	b.Grow(64)
	writeStream(&b, p.Account, p.Stream, p.Sub)
	if p.Logs {
		b.WriteString("/logs")
	}
	if p.Type != "" {
		b.WriteByte(':')
		if bareType(p.Type) {
			writeEscaped(&b, p.Type)
		} else {
			writeEscaped(&b, string(appendQuoted(nil, p.Type)))
		}
	}
	if p.Index >= 0 {
		b.WriteByte('[')
		b.WriteString(strconv.FormatInt(p.Index, 10))
		b.WriteByte(']')
	}
	for _, c := range p.Chain {
		b.WriteByte('.')
		b.WriteString(c.Name)
		b.WriteByte('(')
		for i, a := range c.Args {
			if i > 0 {
				b.WriteByte(',')
			}
			writeEscaped(&b, a.literal())
		}
		b.WriteByte(')')
	}
	if p.Suffix != "" {
		b.WriteByte('.')
		b.WriteString(p.Suffix)
	}
	if p.Pipe != nil {
		b.WriteString("/pipe")
		writeStream(&b, p.Pipe.Account, p.Pipe.Stream, p.Pipe.Sub)
	}
	return b.String()
}

func writeStream(b *strings.Builder, account, stream string, sub *Arg) {
	b.WriteByte('/')
	b.WriteString(account)
	b.WriteByte('/')
	b.WriteString(stream)
	if sub != nil {
		b.WriteByte('(')
		writeEscaped(b, sub.literal())
		b.WriteByte(')')
	}
}

// writeEscaped writes s with every '%' as "%25".
func writeEscaped(b *strings.Builder, s string) {
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		b.WriteString("%25")
		s = s[i+1:]
	}
}

// literal returns Raw, or the canonical literal for an Arg built by hand.
func (a Arg) literal() string {
	if a.Raw != "" {
		return a.Raw
	}
	return a.Canonical()
}

// Canonical returns the one canonical JavaScript literal of a's value:
// strings single-quoted with the fewest escapes, numbers as JavaScript's
// Number.prototype.toString writes them, true, false, null, or the account
// name. Two arguments name the same substream when their canonical
// literals are equal. It returns "" for an Arg of no valid kind.
func (a Arg) Canonical() string {
	var buf [64]byte
	return string(a.appendCanonical(buf[:0]))
}

func (a Arg) appendCanonical(dst []byte) []byte {
	switch a.Kind {
	case String:
		s, _ := a.Value.(string)
		return appendQuoted(dst, s)
	case Number:
		f, _ := a.Value.(float64)
		return appendJSNumber(dst, f)
	case Bool:
		if v, _ := a.Value.(bool); v {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Null:
		return append(dst, "null"...)
	case Account:
		s, _ := a.Value.(string)
		return append(dst, s...)
	}
	return dst
}

// bareType reports whether t can be written after ':' without quotes and
// be read back as t.
func bareType(t string) bool {
	if t == "" || strings.Contains(t, "/pipe") {
		return false
	}
	segStart := true
	for i := 0; i < len(t); {
		r, n := decodeRune(t, i)
		if r == '/' {
			if segStart {
				return false
			}
			segStart = true
		} else {
			if !typeChar(r) {
				return false
			}
			segStart = false
		}
		i += n
	}
	return !segStart
}
