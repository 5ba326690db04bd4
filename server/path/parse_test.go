package path

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/parse with the current results")

// TestParseData runs testdata/parse: cases of one input line, "----", and
// the expected rendering (render), each case ending at a blank line. Lines
// starting with '#' between cases are comments. An input line that starts
// with '"' is a list of Go-quoted parts joined by " + ", each optionally
// followed by "*N" to repeat it: "/a/s(" + "("*10000.
func TestParseData(t *testing.T) {
	const file = "testdata/parse"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out strings.Builder
	cases := 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("%s:%d: want ---- after the input", file, i+1)
		}
		inLine := i + 1
		input, err := decodeInput(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", file, inLine, err)
		}
		i += 2
		var want []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			want = append(want, lines[i])
		}
		got := render(input)
		cases++
		out.WriteString(line + "\n----\n" + got + "\n")
		if i < len(lines) {
			out.WriteString("\n")
		}
		if !*rewrite && got != strings.Join(want, "\n") {
			t.Errorf("%s:%d: Parse(%.80q):\ngot:\n%s\nwant:\n%s", file, inLine, input, got, strings.Join(want, "\n"))
		}
	}
	if *rewrite {
		if err := os.WriteFile(file, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if cases < 80 {
		t.Errorf("%s has %d cases, want at least 80", file, cases)
	}
}

func decodeInput(line string) (string, error) {
	if !strings.HasPrefix(line, `"`) {
		return line, nil
	}
	var b strings.Builder
	for rest := line; rest != ""; {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", fmt.Errorf("bad quoted part at %q: %w", rest, err)
		}
		s, _ := strconv.Unquote(q)
		rest = rest[len(q):]
		n := 1
		if strings.HasPrefix(rest, "*") {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			if n, err = strconv.Atoi(rest[1:end]); err != nil {
				return "", fmt.Errorf("bad repeat %q: %w", rest[:end], err)
			}
			rest = rest[end:]
		}
		b.WriteString(strings.Repeat(s, n))
		if rest != "" {
			if !strings.HasPrefix(rest, " + ") {
				return "", fmt.Errorf("want \" + \" between parts, not %q", rest)
			}
			rest = rest[3:]
		}
	}
	return b.String(), nil
}

// render is the expected form of one case: the canonical path and every
// part that is set, then the selector; or the error.
func render(input string) string {
	p, err := Parse(input)
	if err != nil {
		if !errors.Is(err, base.ErrInvalid) {
			return "error without ErrInvalid: " + err.Error()
		}
		return "error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "path: %s\nstream: %s/%s", p.String(), p.Account, p.Stream)
	if p.Sub != nil {
		fmt.Fprintf(&b, "\nsub: %s", renderArg(*p.Sub))
	}
	if p.Logs {
		b.WriteString("\nlogs")
	}
	if p.Type != "" {
		fmt.Fprintf(&b, "\ntype: %q", p.Type)
	}
	if p.Index >= 0 {
		fmt.Fprintf(&b, "\nindex: %d", p.Index)
	}
	for _, c := range p.Chain {
		var args []string
		for _, a := range c.Args {
			args = append(args, renderArg(a))
		}
		fmt.Fprintf(&b, "\ncall: %s(%s)", c.Name, strings.Join(args, ", "))
	}
	if p.Suffix != "" {
		fmt.Fprintf(&b, "\nsuffix: %s", p.Suffix)
	}
	if p.Pipe != nil {
		fmt.Fprintf(&b, "\npipe: %s/%s", p.Pipe.Account, p.Pipe.Stream)
		if p.Pipe.Sub != nil {
			fmt.Fprintf(&b, " sub %s", renderArg(*p.Pipe.Sub))
		}
	}
	sel, err := p.Selector()
	if err != nil {
		fmt.Fprintf(&b, "\nselector error: %v", err)
	} else if s := renderSelector(sel); s != "" {
		fmt.Fprintf(&b, "\nselector:%s", s)
	}
	return b.String()
}

func renderArg(a Arg) string {
	return fmt.Sprintf("%s %s = %#v key %s", a.Kind, a.Raw, a.Value, a.SubKey())
}

func renderSelector(s Selector) string {
	all := All()
	var b strings.Builder
	f := func(name string, v, open int64) {
		if v != open {
			fmt.Fprintf(&b, " %s=%d", name, v)
		}
	}
	f("from", s.From, all.From)
	f("to", s.To, all.To)
	f("since", s.Since, all.Since)
	f("until", s.Until, all.Until)
	f("limit", s.Limit, all.Limit)
	if s.Types != nil {
		fmt.Fprintf(&b, " types=%q", s.Types)
	}
	return b.String()
}

func TestErrorsWrapInvalid(t *testing.T) {
	f := func(input, wantMsg string) {
		t.Helper()
		_, err := Parse(input)
		if !errors.Is(err, base.ErrInvalid) {
			t.Fatalf("Parse(%q) = %v, want an ErrInvalid", input, err)
		}
		if base.KindOf(err) != base.ErrInvalid {
			t.Fatalf("Parse(%q): kind %v", input, base.KindOf(err))
		}
		if err.Error() != wantMsg {
			t.Fatalf("Parse(%q):\n got %s\nwant %s", input, err, wantMsg)
		}
	}
	f("/a/b(", `path "/a/b(": at 5: expected a JavaScript literal or an account name`)
	f("/a/this", `path "/a/this": at 3: stream name "this" is forbidden`)
	f("/a/_x", `path "/a/_x": at 3: stream name "_x": names starting with '_' are reserved`)
}

func TestSelectorHandBuilt(t *testing.T) {
	f := func(p Path, want Selector, wantErr string) {
		t.Helper()
		got, err := p.Selector()
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) || !errors.Is(err, base.ErrInvalid) {
				t.Fatalf("Selector(%+v) = %v, want error containing %q", p, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("Selector(%+v): %v", p, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Selector(%+v) = %+v, want %+v", p, got, want)
		}
	}
	num := func(s string) Arg {
		a, err := ParseArg(s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	all := All()
	f(Path{Index: -1}, all, "")
	f(Path{Index: math.MaxInt64}, Selector{From: math.MaxInt64, To: math.MaxInt64,
		Since: math.MinInt64, Until: math.MaxInt64, Limit: math.MaxInt64}, "")
	f(Path{Index: -1, Chain: []Call{{Name: "drop", Args: []Arg{num("1")}}}}, Selector{}, "unknown call .drop()")
	f(Path{Index: -1, Chain: []Call{{Name: "limit", Args: []Arg{num("'x'")}}}}, Selector{}, "want an integer or null")
	f(Path{Index: -1, Chain: []Call{{Name: "eventType", Args: []Arg{{Kind: String, Value: 3}}}}}, Selector{}, "want a quoted event type")
	f(Path{Index: 3, Chain: []Call{{Name: "slice", Args: []Arg{num("1")}}}},
		Selector{From: 3, To: 4, Since: math.MinInt64, Until: math.MaxInt64, Limit: math.MaxInt64}, "")
	f(Path{Index: 3, Chain: []Call{{Name: "slice", Args: []Arg{num("5"), num("9")}}}},
		Selector{From: 5, To: 5, Since: math.MinInt64, Until: math.MaxInt64, Limit: math.MaxInt64}, "")
	f(Path{Index: -1, Type: "a", Chain: []Call{{Name: "eventType", Args: []Arg{num("'b'"), num("'a'")}}}},
		Selector{To: math.MaxInt64, Since: math.MinInt64, Until: math.MaxInt64, Types: []string{"a"}, Limit: math.MaxInt64}, "")
	f(Path{Index: -1, Chain: []Call{{Name: "range", Args: []Arg{num("null"), num("5")}}}},
		Selector{To: math.MaxInt64, Since: math.MinInt64, Until: 5, Limit: math.MaxInt64}, "")
}

func TestParseArg(t *testing.T) {
	f := func(s string, kind ArgKind, value any, canonical string) {
		t.Helper()
		a, err := ParseArg(s)
		if kind == 0 {
			if err == nil || !errors.Is(err, base.ErrInvalid) {
				t.Fatalf("ParseArg(%q) = %+v, %v; want an ErrInvalid", s, a, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseArg(%q): %v", s, err)
		}
		if a.Kind != kind || fmt.Sprintf("%#v", a.Value) != fmt.Sprintf("%#v", value) || a.Raw != s {
			t.Fatalf("ParseArg(%q) = %+v, want %v %#v", s, a, kind, value)
		}
		if got := a.Canonical(); got != canonical {
			t.Fatalf("ParseArg(%q).Canonical() = %q, want %q", s, got, canonical)
		}
	}
	f(`'a'`, String, "a", `'a'`)
	f(`"a'b"`, String, "a'b", `'a\'b'`)
	f(`'\u0061\x62\u{63}'`, String, "abc", `'abc'`)
	f(`'\uD83D\uDE00'`, String, "\U0001F600", "'\U0001F600'")
	f(`'\0\a\
'`, 0, nil, "") // raw newline is a control character
	f(`'\0'`, String, "\x00", `'\u0000'`)
	f(`'\01'`, 0, nil, "")
	f(`'\uD800'`, 0, nil, "")
	f(`'\uDE00'`, 0, nil, "")
	f(`'\u{110000}'`, 0, nil, "")
	f(`'\u{D800}'`, 0, nil, "")
	f("'a\u2028b'", String, "a\u2028b", `'a\u2028b'`)
	f("'a\\\u2028b'", String, "ab", `'ab'`)
	f(`'tab	in'`, String, "tab\tin", `'tab\tin'`)
	f(`1`, Number, 1.0, `1`)
	f(`1.0`, Number, 1.0, `1`)
	f(`-0`, Number, 0.0, `0`)
	f(`1e21`, Number, 1e21, `1e+21`)
	f(`1e20`, Number, 1e20, `100000000000000000000`)
	f(`1.5e-7`, Number, 1.5e-7, `1.5e-7`)
	f(`0.000001`, Number, 1e-6, `0.000001`)
	f(`-12.5E+2`, Number, -1250.0, `-1250`)
	f(`9007199254740993`, Number, 9007199254740992.0, `9007199254740992`)
	f(`1e400`, 0, nil, "")
	f(`1e-400`, Number, 0.0, `0`)
	f(`true`, Bool, true, `true`)
	f(`false`, Bool, false, `false`)
	f(`null`, Null, nil, `null`)
	f(`bob`, Account, "bob", `bob`)
	f(`0x1f`, Number, 31.0, `31`)
	f(`0X1F`, Number, 31.0, `31`)
	f(`-0x10`, Number, -16.0, `-16`)
	f(`0o17`, Number, 15.0, `15`)
	f(`0b101`, Number, 5.0, `5`)
	f(`0x20000000000001`, Number, 9007199254740992.0, `9007199254740992`)
	f(`0x1fffffffffffff_f`, Number, 144115188075855870.0, `144115188075855870`)
	f(`1_000`, Number, 1000.0, `1000`)
	f(`1_000.0_1e1_0`, Number, 1000.01e10, `10000100000000`)
	f(`.5`, Number, 0.5, `0.5`)
	f(`-.5`, Number, -0.5, `-0.5`)
	f(`1.`, Number, 1.0, `1`)
	f(`1.e2`, Number, 100.0, `100`)
	f(`0x`, Account, "0x", `0x`)
	f(`0x1g`, Account, "0x1g", `0x1g`)
	f(`0b102`, Account, "0b102", `0b102`)
	f(`0x_1`, Account, "0x_1", `0x_1`)
	f(`1__0`, Account, "1__0", `1__0`)
	f(`1_`, Account, "1_", `1_`)
	f(`0_1`, Account, "0_1", `0_1`)
	f(`10n`, Account, "10n", `10n`)
	f(`01`, Account, "01", `01`)
	f(`42abc`, Account, "42abc", `42abc`)
	f(`Bob`, 0, nil, "")
	f(`-x`, 0, nil, "")
	f(`.`, 0, nil, "")
	f(`-.`, 0, nil, "")
	f(`1_.5`, 0, nil, "")
	f(` 1`, 0, nil, "")
	f(`'a' `, 0, nil, "")
	f(``, 0, nil, "")
	f(`'abc`, 0, nil, "")
	f(`'abc\`, 0, nil, "")
}

func TestValidateEventType(t *testing.T) {
	f := func(s string, ok bool) {
		t.Helper()
		err := ValidateEventType(s)
		if (err == nil) != ok || (err != nil && !errors.Is(err, base.ErrInvalid)) {
			t.Fatalf("ValidateEventType(%q) = %v, want ok=%v", s, err, ok)
		}
	}
	f("click", true)
	f("text/plain", true)
	f("a b.c", true)
	f(strings.Repeat("é", 100), true)
	f(strings.Repeat("é", 101), false)
	f("", false)
	f("a\nb", false)
	f("a\x85b", false)
	f("a\u0085b", false)
	f("\xff", false)
}
