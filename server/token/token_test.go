package token

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/ducktail/ducktail/base"
	"lukechampine.com/blake3"
)

var secret = bytes.Repeat([]byte{7}, 32)

func keys(t *testing.T) *Keys {
	t.Helper()
	k, err := NewKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestLayout recomputes a token independently of Mint, byte by byte, as a
// client library would.
func TestLayout(t *testing.T) {
	k := keys(t)
	c := Claims{DomainID: DomainID("App.Example.com"), TenantID: 42, TopicID: 0xdeadbeef, ExpiresAt: 2000000000}
	tok := k.Mint(c)
	if len(tok) != 64 {
		t.Fatalf("token length %d", len(tok))
	}
	var msg [16]byte
	d := blake3.Sum256([]byte("app.example.com"))
	copy(msg[0:4], d[:4])
	binary.BigEndian.PutUint32(msg[4:], 42)
	binary.BigEndian.PutUint32(msg[8:], 0xdeadbeef)
	binary.BigEndian.PutUint32(msg[12:], 2000000000)
	h := blake3.New(32, secret)
	h.Write(msg[:])
	want := hex.EncodeToString(append(msg[:], h.Sum(nil)[:16]...))
	if tok != want {
		t.Fatalf("Mint = %s, want %s", tok, want)
	}
	got, err := k.Verify([]byte(tok), time.Unix(1999999999, 0))
	if err != nil || got != c {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	k := keys(t)
	now := time.Unix(1_700_000_000, 0)
	good := k.Mint(Claims{TopicID: 1, ExpiresAt: uint32(now.Unix()) + 60})
	other, _ := NewKeys(bytes.Repeat([]byte{8}, 32))
	f := func(name, tok string, at time.Time) {
		t.Helper()
		_, err := k.Verify([]byte(tok), at)
		if !errors.Is(err, base.ErrUnauthorized) {
			t.Fatalf("%s: err = %v, want ErrUnauthorized", name, err)
		}
	}
	f("short", good[:63], now)
	f("long", good+"0", now)
	f("not hex", "zz"+good[2:], now)
	f("flipped mac", good[:63]+string("0123456789abcdef"[(bytes.IndexByte([]byte("0123456789abcdef"), good[63])+1)%16]), now)
	f("flipped claim", "1"+good[1:], now)
	f("other secret", other.Mint(Claims{TopicID: 1}), now)
	f("expired", good, now.Add(61*time.Second))
	f("expired exactly", good, now.Add(60*time.Second))
	if _, err := k.Verify([]byte(good), now.Add(59*time.Second)); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	if _, err := k.Verify([]byte(k.Mint(Claims{TopicID: 1})), now.AddDate(100, 0, 0)); err != nil {
		t.Fatalf("token without expiry refused: %v", err)
	}
}

func TestRotation(t *testing.T) {
	old := keys(t)
	tok := old.Mint(Claims{TopicID: 3})
	newSecret := bytes.Repeat([]byte{9}, 32)
	cur, _ := NewKeys(newSecret)
	now := time.Unix(1_700_000_000, 0)
	rot, err := cur.WithPrevious(secret, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rot.Verify([]byte(tok), now); err != nil {
		t.Fatalf("old token refused inside the grace period: %v", err)
	}
	if _, err := rot.Verify([]byte(tok), now.Add(2*time.Hour)); !errors.Is(err, base.ErrUnauthorized) {
		t.Fatalf("old token accepted after the grace period: %v", err)
	}
	if _, err := cur.Verify([]byte(tok), now); err == nil {
		t.Fatal("old token accepted without rotation")
	}
}

func TestCheckOrigin(t *testing.T) {
	bound := Claims{DomainID: DomainID("example.com")}
	f := func(c Claims, origin, referer string, ok bool) {
		t.Helper()
		err := CheckOrigin(c, origin, referer)
		if ok && err != nil {
			t.Fatalf("CheckOrigin(%q, %q) = %v, want ok", origin, referer, err)
		}
		if !ok && !errors.Is(err, base.ErrForbidden) {
			t.Fatalf("CheckOrigin(%q, %q) = %v, want ErrForbidden", origin, referer, err)
		}
	}
	f(Claims{}, "", "", true)
	f(bound, "https://example.com", "", true)
	f(bound, "https://EXAMPLE.com:8443", "", true)
	f(bound, "https://app.example.com", "", true)
	f(bound, "https://a.b.example.com", "", true)
	f(bound, "", "https://app.example.com/page?x=1", true)
	f(bound, "null", "https://example.com/", true)
	f(bound, "https://example.com.evil.io", "", false)
	f(bound, "https://notexample.com", "", false)
	f(bound, "https://evil.io", "https://example.com/", false) // Origin wins over Referer
	f(bound, "", "", false)
	f(bound, "https://user@evil.io", "", false)
}

func FuzzVerify(f *testing.F) {
	k, _ := NewKeys(secret)
	f.Add([]byte(k.Mint(Claims{TopicID: 1})))
	f.Add([]byte("00"))
	f.Add(bytes.Repeat([]byte("f"), 64))
	f.Fuzz(func(t *testing.T, tok []byte) {
		c, err := k.Verify(tok, time.Unix(0, 0))
		if err == nil && k.Mint(c) != string(bytes.ToLower(tok)) {
			t.Fatalf("accepted %q but it re-mints as %q", tok, k.Mint(c))
		}
		if err != nil && !errors.Is(err, base.ErrUnauthorized) {
			t.Fatalf("error of the wrong kind: %v", err)
		}
	})
}
