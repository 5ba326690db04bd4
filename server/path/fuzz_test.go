package path

import (
	"errors"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// FuzzParse checks that Parse never panics, that every error wraps
// base.ErrInvalid, and that an accepted path renders canonically to a
// string that parses back to the same Path and renders the same.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/parse")
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if lines[i+1] == "----" {
			if in, err := decodeInput(lines[i]); err == nil {
				f.Add(in)
			}
		}
	}
	f.Fuzz(checkRoundTrip)
}

// checkRoundTrip checks the properties FuzzParse asks of one input.
func checkRoundTrip(t *testing.T, s string) {
	p, err := Parse(s)
	if err != nil {
		if !errors.Is(err, base.ErrInvalid) {
			t.Fatalf("Parse(%q): error %v does not wrap ErrInvalid", s, err)
		}
		return
	}
	r := p.String()
	p2, err := Parse(r)
	if err != nil {
		t.Fatalf("Parse(%q) ok, but its rendering %q: %v", s, r, err)
	}
	if !reflect.DeepEqual(p, p2) {
		t.Fatalf("Parse(%q) = %+v,\nParse(%q) = %+v", s, p, r, p2)
	}
	if r2 := p2.String(); r2 != r {
		t.Fatalf("rendering is not canonical: %q then %q", r, r2)
	}
	if _, err := p.Selector(); err != nil && !errors.Is(err, base.ErrInvalid) {
		t.Fatalf("Selector of %q: %v", s, err)
	}
	for _, a := range []*Arg{p.Sub, targetSub(p)} {
		if a != nil {
			checkSubKey(t, *a)
		}
	}
}

// TestRandomPaths assembles paths from fragments of every part of the
// grammar, in and out of order, and checks the FuzzParse properties.
func TestRandomPaths(t *testing.T) {
	// Each part: fragments that are valid in place, then after "!" some
	// that are not, picked one time in twenty.
	parts := [][]string{
		{"/a/s", "/acct/strm", "!", "/sys/cron", "/a/S", "/a/this", "/a", ""},
		{"", "", "('arg')", "(1.0)", "(bob)", `("x'y")`, "( 'sp' )", "('%41')", "(%27q%27)", "('a/pipe/b')", `('\u00e9')`, "!", "(", "('x"},
		{"", "", "/logs"},
		{"", "", ":click", ":text/plain", ":'a.b'", ":a/pipe", ":%C3%A9", ":x%25", "!", ":", ":a b"},
		{"", "", "[0]", "[7]", "!", "[x]"},
		{"", ".slice(1,2)", ".slice(null, 5)", `.eventType('a', "b")`, ".range(-1)", ".limit(3)", "!", ".slice(", ".foo()"},
		{"", ".slice(1,2)", ".eventType('click')", ".limit(3)"},
		{"", "", ".reducer", ".json", ".ts", "!", ".x"},
		{"", "", "/pipe/b/t", "/pipe/b/t('z')", "/pipe/sys/cron('0 9 * * 1')", "!", "/pipe/b", "/"},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	accepted := 0
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for _, choices := range parts {
			good, bad, _ := strings.Cut(strings.Join(choices, "\x00"), "\x00!")
			list := strings.Split(good, "\x00")
			if bad != "" && rng.IntN(20) == 0 {
				list = strings.Split(bad[1:], "\x00")
			}
			b.WriteString(list[rng.IntN(len(list))])
		}
		s := b.String()
		if rng.IntN(8) == 0 && len(s) > 0 { // a local mutation
			j := rng.IntN(len(s))
			s = s[:j] + string(`'()[].:/%\x`[rng.IntN(11)]) + s[j:]
		}
		if _, err := Parse(s); err == nil {
			accepted++
		}
		checkRoundTrip(t, s)
	}
	t.Logf("%d of 20000 random paths parsed", accepted)
	if accepted < 2000 {
		t.Fatalf("only %d of 20000 random paths parsed: the generator is too hostile to test round trips", accepted)
	}
}

func targetSub(p *Path) *Arg {
	if p.Pipe == nil {
		return nil
	}
	return p.Pipe.Sub
}
