package path

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ducktail/ducktail/base"
)

// checkSubKey checks a's key against the promises of SubKey and that it
// parses back to a's value.
func checkSubKey(t *testing.T, a Arg) {
	t.Helper()
	key := a.SubKey()
	if key == "" || strings.ContainsAny(key, "/\\\x00") || strings.Contains(key, "..") ||
		strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") {
		t.Fatalf("SubKey(%+v) = %q: empty or holds a forbidden sequence", a, key)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c >= utf8.RuneSelf || (c >= 'A' && c <= 'Z' && (i < 2 || key[i-1] != '%' && key[i-2] != '%')) {
			t.Fatalf("SubKey(%+v) = %q: byte %q at %d", a, key, c, i)
		}
	}
	back, err := ParseSubKey(key)
	if err != nil {
		t.Fatalf("ParseSubKey(%q) (from %+v): %v", key, a, err)
	}
	if back.Kind != a.Kind || !sameValue(back.Value, a.Value) || back.Raw != a.Canonical() {
		t.Fatalf("ParseSubKey(SubKey(%+v)) = %+v", a, back)
	}
	if back.SubKey() != key {
		t.Fatalf("key of the parsed key differs: %q then %q", key, back.SubKey())
	}
}

func sameValue(x, y any) bool {
	if fx, ok := x.(float64); ok {
		fy, ok := y.(float64)
		return ok && fx == fy
	}
	return x == y
}

// TestSubKeyRoundTrip is a property test over random arguments: strings of
// awkward characters, numbers, accounts and the keywords.
func TestSubKeyRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	awkward := []rune("aZz09/.\\\x00%'\" \t\n-_~+*?#:[](){}éß😀\u2028\u0085\ufffd\u00a0A.")
	randString := func() string {
		var b strings.Builder
		for n := rng.IntN(24); n > 0; n-- {
			if rng.IntN(4) == 0 {
				r := rune(rng.IntN(0x10FFFF))
				if utf8.ValidRune(r) {
					b.WriteRune(r)
				}
				continue
			}
			b.WriteRune(awkward[rng.IntN(len(awkward))])
		}
		return b.String()
	}
	for i := 0; i < 20000; i++ {
		var a Arg
		switch rng.IntN(6) {
		case 0, 1, 2:
			a = Arg{Kind: String, Value: randString()}
		case 3:
			f := math.Float64frombits(rng.Uint64())
			if math.IsNaN(f) || math.IsInf(f, 0) {
				f = rng.NormFloat64() * 1e6
			}
			if rng.IntN(2) == 0 {
				f = math.Round(f)
			}
			if f == 0 {
				f = 0
			}
			a = Arg{Kind: Number, Value: f}
		case 4:
			name := strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
					return r
				}
				return -1
			}, strings.ToLower(randString()))
			if base.ValidateAccount(name) != nil || name == "true" || name == "false" || name == "null" ||
				(&parser{src: name}).numberEnd(0) == len(name) {
				name = "acct"
			}
			a = Arg{Kind: Account, Value: name}
		case 5:
			a = []Arg{{Kind: Bool, Value: true}, {Kind: Bool, Value: false}, {Kind: Null}}[rng.IntN(3)]
		}
		checkSubKey(t, a)
		// The canonical literal parses to the same value.
		b, err := ParseArg(a.Canonical())
		if err != nil || b.Kind != a.Kind || !sameValue(b.Value, a.Value) {
			t.Fatalf("ParseArg(%q) = %+v, %v; want %+v", a.Canonical(), b, err, a)
		}
	}
}

func TestSubKey(t *testing.T) {
	f := func(literal, key string) {
		t.Helper()
		a, err := ParseArg(literal)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.SubKey(); got != key {
			t.Fatalf("SubKey(%s) = %q, want %q", literal, got, key)
		}
		checkSubKey(t, a)
	}
	f(`'bob'`, `%27bob%27`)
	f(`"bob"`, `%27bob%27`)
	f(`bob`, `bob`)
	f(`42`, `42`)
	f(`4.2e1`, `42`)
	f(`-1.5`, `-1.5`)
	f(`1e21`, `1e%2B21`)
	f(`'Bob'`, `%27%42ob%27`)
	f(`'..'`, `%27.%2E%27`)
	f(`'a.'`, `%27a.%27`)
	f(`'../x'`, `%27.%2E%2Fx%27`)
	f(`'a\\b'`, `%27a%5C%5Cb%27`)
	f(`'\0'`, `%27%5Cu0000%27`)
	f(`true`, `true`)
	f(`null`, `null`)
	if (Arg{}).SubKey() != "" {
		t.Fatal("the zero Arg has a key")
	}
}

func TestParseSubKeyRefuses(t *testing.T) {
	f := func(key string) {
		t.Helper()
		if a, err := ParseSubKey(key); err == nil || !errors.Is(err, base.ErrInvalid) {
			t.Fatalf("ParseSubKey(%q) = %+v, %v; want an ErrInvalid", key, a, err)
		}
	}
	f("")
	f("Bob")         // upper case must be escaped
	f("%62ob")       // 'b' need not be escaped: not canonical
	f("%27bob%27%")  // truncated escape
	f("%2a")         // lower-case hex
	f("a/b")         // '/'
	f(".5")          // leading '.'
	f("%27a%27%27")  // trailing garbage
	f("%22bob%22")   // double quotes are not canonical
	f("1.0")         // not canonical: 1
	f("%27%F0%27")   // invalid UTF-8
	f("%27%5Cx%27")  // bad escape \x
	f("%27a%0Ab%27") // raw control character
	f("1e400")       // out of range
}
