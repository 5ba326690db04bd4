// Package token mints and checks BoilStream-style ingest tokens (SPEC 4.1).
//
// A token is 64 hex characters, 32 bytes. Bytes 0..15 are four big-endian
// uint32s: domain_id, tenant_id, topic_id, expires_at (unix seconds). Bytes
// 16..31 are the first 16 bytes of the BLAKE3 keyed hash of bytes 0..15, the
// key being the server's 32-byte secret. domain_id is the first 4 bytes
// (big-endian) of the unkeyed BLAKE3 hash of the lower-cased domain, or 0 for
// a token that is not bound to a domain.
//
// Keys are immutable after construction and safe for concurrent use. The
// package imports only base and blake3.
package token

import (
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"github.com/ducktail/ducktail/base"
	"lukechampine.com/blake3"
)

// SecretSize is the size of a server secret in bytes.
const SecretSize = 32

// Claims are the fields a token carries.
type Claims struct {
	DomainID  uint32 // 0: not bound to a domain
	TenantID  uint32 // 0: no tenant
	TopicID   uint32
	ExpiresAt uint32 // unix seconds; 0 never expires
}

// DomainID returns the domain_id of a domain name, or 0 for "".
func DomainID(domain string) uint32 {
	if domain == "" {
		return 0
	}
	sum := blake3.Sum256([]byte(strings.ToLower(domain)))
	return binary.BigEndian.Uint32(sum[:4])
}

// Keys holds the current secret and, during a rotation, previous secrets
// that stay valid until their grace period ends.
type Keys struct {
	current  [SecretSize]byte
	previous []previousKey
	// hashers recycles keyed hashers of the current secret: making one
	// costs about 3 KB, and every ingest request verifies a token. A
	// bounded channel rather than a sync.Pool, which a GC empties.
	hashers chan *blake3.Hasher
}

type previousKey struct {
	secret [SecretSize]byte
	until  time.Time
}

// NewKeys returns Keys that mint with secret. Previous secrets are accepted
// for verification until the given time.
func NewKeys(secret []byte) (*Keys, error) {
	if len(secret) != SecretSize {
		return nil, base.Errorf(base.ErrInvalid, "token: secret is %d bytes, want %d", len(secret), SecretSize)
	}
	k := &Keys{hashers: make(chan *blake3.Hasher, 64)}
	copy(k.current[:], secret)
	return k, nil
}

// WithPrevious returns a copy of k that also accepts tokens made with
// secret until the given time (the rotation grace period).
func (k *Keys) WithPrevious(secret []byte, until time.Time) (*Keys, error) {
	if len(secret) != SecretSize {
		return nil, base.Errorf(base.ErrInvalid, "token: previous secret is %d bytes, want %d", len(secret), SecretSize)
	}
	n := &Keys{current: k.current, previous: append([]previousKey(nil), k.previous...),
		hashers: make(chan *blake3.Hasher, cap(k.hashers))}
	var p previousKey
	copy(p.secret[:], secret)
	p.until = until
	n.previous = append(n.previous, p)
	return n, nil
}

// Mint returns the 64-hex-character token for c.
func (k *Keys) Mint(c Claims) string {
	var raw [32]byte
	putClaims(raw[:16], c)
	k.macCurrent(raw[:16], raw[16:])
	return hex.EncodeToString(raw[:])
}

// macCurrent is mac with the current secret, on a recycled hasher.
func (k *Keys) macCurrent(msg, out []byte) {
	var h *blake3.Hasher
	select {
	case h = <-k.hashers:
		h.Reset()
	default:
		h = blake3.New(32, k.current[:])
	}
	h.Write(msg)
	var sum [32]byte
	h.Sum(sum[:0])
	copy(out, sum[:16])
	select {
	case k.hashers <- h:
	default:
	}
}

func putClaims(b []byte, c Claims) {
	binary.BigEndian.PutUint32(b[0:], c.DomainID)
	binary.BigEndian.PutUint32(b[4:], c.TenantID)
	binary.BigEndian.PutUint32(b[8:], c.TopicID)
	binary.BigEndian.PutUint32(b[12:], c.ExpiresAt)
}

func mac(secret *[SecretSize]byte, msg, out []byte) {
	h := blake3.New(32, secret[:])
	h.Write(msg)
	var sum [32]byte
	h.Sum(sum[:0])
	copy(out, sum[:16])
}

// Verify parses tok and checks its MAC against the current and any
// still-valid previous secret, in constant time, and its expiry against now.
// A malformed, forged or expired token is an error wrapping
// base.ErrUnauthorized. It does not check the domain binding: see
// CheckOrigin.
func (k *Keys) Verify(tok []byte, now time.Time) (Claims, error) {
	var raw [32]byte
	if len(tok) != 64 {
		return Claims{}, base.Errorf(base.ErrUnauthorized, "token: want 64 hex characters, got %d", len(tok))
	}
	if _, err := hex.Decode(raw[:], tok); err != nil {
		return Claims{}, base.Errorf(base.ErrUnauthorized, "token: not hexadecimal")
	}
	var want [16]byte
	k.macCurrent(raw[:16], want[:])
	ok := subtle.ConstantTimeCompare(want[:], raw[16:]) == 1
	for i := range k.previous {
		if now.After(k.previous[i].until) {
			continue
		}
		mac(&k.previous[i].secret, raw[:16], want[:])
		if subtle.ConstantTimeCompare(want[:], raw[16:]) == 1 {
			ok = true
		}
	}
	if !ok {
		return Claims{}, base.Errorf(base.ErrUnauthorized, "token: signature does not match")
	}
	c := Claims{
		DomainID:  binary.BigEndian.Uint32(raw[0:]),
		TenantID:  binary.BigEndian.Uint32(raw[4:]),
		TopicID:   binary.BigEndian.Uint32(raw[8:]),
		ExpiresAt: binary.BigEndian.Uint32(raw[12:]),
	}
	if c.ExpiresAt != 0 && now.Unix() >= int64(c.ExpiresAt) {
		return Claims{}, base.Errorf(base.ErrUnauthorized, "token: expired at %s",
			time.Unix(int64(c.ExpiresAt), 0).UTC().Format(time.RFC3339))
	}
	return c, nil
}

// CheckOrigin enforces the domain binding: a bound token is accepted only
// when the host of origin (the Origin header, else the Referer) equals the
// bound domain or is a subdomain of it. Hosts are compared by their
// domain_id, so the bound domain's name need not be known: the host and each
// of its parent domains are hashed in turn. A refusal wraps base.ErrForbidden.
func CheckOrigin(c Claims, origin, referer string) error {
	if c.DomainID == 0 {
		return nil
	}
	src := origin
	if src == "" || src == "null" {
		src = referer
	}
	host := hostOf(src)
	if host == "" {
		return base.Errorf(base.ErrForbidden, "token is bound to a domain: the request has no Origin or Referer")
	}
	for h := host; h != ""; {
		if DomainID(h) == c.DomainID {
			return nil
		}
		_, parent, ok := strings.Cut(h, ".")
		if !ok {
			break
		}
		h = parent
	}
	return base.Errorf(base.ErrForbidden, "token is bound to another domain than %q", host)
}

// hostOf extracts the lower-cased host (no port, no userinfo) of a URL or
// bare host.
func hostOf(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") { // IPv6 literal
		if i := strings.IndexByte(s, ']'); i >= 0 {
			return strings.ToLower(s[1:i])
		}
		return ""
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}
