// Package access decides who may read and write which streams (SPEC 4.2):
// API keys with read/write/execute rights on an account's streams or on one
// stream, stream keys whose HMAC-SHA256 signatures authorise writes to a
// stream (several per stream, for rotation), and public streams.
//
// Secrets are stored as SHA-256 hashes (API keys) or as given (stream keys,
// which the server needs to verify signatures), in one JSON file written
// atomically. Every comparison of secrets is constant-time. A Store is safe
// for concurrent use. It imports base and storage/vfs.
package access

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage/vfs"
)

// Right is one of r, w, x.
type Right byte

// Rights of SPEC 4.2.
const (
	Read    Right = 'r'
	Write   Right = 'w'
	Execute Right = 'x'
)

// APIKey is an API key's grant. Stream "" grants the whole account.
type APIKey struct {
	ID      string `json:"id"`
	Hash    string `json:"hash,omitempty"` // hex SHA-256 of the secret
	Account string `json:"account"`
	Stream  string `json:"stream,omitempty"`
	Rights  string `json:"rights"` // any of "rwx"
}

// StreamKey is a secret whose signatures authorise writes to one stream
// (and its substreams).
type StreamKey struct {
	ID     string `json:"id"`
	Stream string `json:"stream"` // account/name
	Secret string `json:"secret,omitempty"`
}

type file struct {
	APIKeys    []APIKey    `json:"api_keys"`
	StreamKeys []StreamKey `json:"stream_keys"`
}

// Store holds the keys and the public streams.
type Store struct {
	fsys vfs.FS
	path string

	mu      sync.RWMutex
	f       file
	byHash  map[string]*APIKey
	public  map[base.StreamName]string // "read", "write" or "read,write"
	changed chan struct{}              // closed and replaced when a right may have gone
}

// Open loads the key file at path (none yet is an empty store).
func Open(fsys vfs.FS, path string) (*Store, error) {
	s := &Store{fsys: fsys, path: path, public: map[base.StreamName]string{}, changed: make(chan struct{})}
	f, err := fsys.Open(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		defer f.Close()
		if err := json.NewDecoder(f).Decode(&s.f); err != nil {
			return nil, base.Errorf(base.ErrCorrupt, "access: %s: %w", path, err)
		}
	}
	s.index()
	return s, nil
}

// Changed returns a channel closed at the next change that may take a
// right away (a key deleted, a public mode changed), so that what was
// authorised once and lasts, a live subscription, can be checked again.
func (s *Store) Changed() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.changed
}

func (s *Store) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Store) index() {
	s.byHash = make(map[string]*APIKey, len(s.f.APIKeys))
	for i := range s.f.APIKeys {
		s.byHash[s.f.APIKeys[i].Hash] = &s.f.APIKeys[i]
	}
}

func (s *Store) saveLocked() error {
	data, err := json.MarshalIndent(&s.f, "", "  ")
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(s.fsys, s.path, append(data, '\n'))
}

// SetPublic makes a stream public for "read", "write" or "read,write".
func (s *Store) SetPublic(name base.StreamName, mode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.public[name] = mode
	s.changedLocked()
}

// ParsePublic checks a public mode.
func ParsePublic(mode string) error {
	switch mode {
	case "", "read", "write", "read,write", "write,read":
		return nil
	}
	return base.Errorf(base.ErrInvalid, "public %q: want read, write or read,write", mode)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey makes an API key for account (and stream, if not "") with
// rights, stores its hash and returns the grant and the secret, which is
// shown only once.
func (s *Store) CreateAPIKey(account, stream, rights string) (APIKey, string, error) {
	if err := base.ValidateAccount(account); err != nil {
		return APIKey{}, "", err
	}
	if err := base.CheckNewAccount(account); err != nil {
		// Nothing in it is read or written with an account's key: sys's
		// streams are read through the account they are about, and the
		// others hold no streams.
		return APIKey{}, "", fmt.Errorf("%w: no API key is made for it", err)
	}
	if stream != "" {
		if err := base.ValidateStream(stream); err != nil {
			return APIKey{}, "", err
		}
	}
	if rights == "" || strings.Trim(rights, "rwx") != "" || strings.Count(rights, "r") > 1 ||
		strings.Count(rights, "w") > 1 || strings.Count(rights, "x") > 1 {
		return APIKey{}, "", base.Errorf(base.ErrInvalid, "rights %q: want letters of rwx, each at most once", rights)
	}
	secret := "dtk_" + randomHex(24)
	k := APIKey{ID: randomHex(8), Hash: hashOf(secret), Account: account, Stream: stream, Rights: rights}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.APIKeys = append(s.f.APIKeys, k)
	if err := s.saveLocked(); err != nil {
		s.f.APIKeys = s.f.APIKeys[:len(s.f.APIKeys)-1]
		return APIKey{}, "", err
	}
	s.index()
	return k, secret, nil
}

// CreateStreamKey makes a stream key for name and returns it with its
// secret.
func (s *Store) CreateStreamKey(name base.StreamName) (StreamKey, error) {
	k := StreamKey{ID: "sk_" + randomHex(8), Stream: name.String(), Secret: randomHex(32)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.StreamKeys = append(s.f.StreamKeys, k)
	if err := s.saveLocked(); err != nil {
		s.f.StreamKeys = s.f.StreamKeys[:len(s.f.StreamKeys)-1]
		return StreamKey{}, err
	}
	return k, nil
}

// Delete removes the API key or stream key with the given id.
func (s *Store) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.f.APIKeys) + len(s.f.StreamKeys)
	s.f.APIKeys = deleteFunc(s.f.APIKeys, func(k APIKey) bool { return k.ID == id })
	s.f.StreamKeys = deleteFunc(s.f.StreamKeys, func(k StreamKey) bool { return k.ID == id })
	if len(s.f.APIKeys)+len(s.f.StreamKeys) == n {
		return base.Errorf(base.ErrNotFound, "no key %q", id)
	}
	s.index()
	s.changedLocked()
	return s.saveLocked()
}

func deleteFunc[T any](s []T, del func(T) bool) []T {
	out := s[:0]
	for _, v := range s {
		if !del(v) {
			out = append(out, v)
		}
	}
	return out
}

// List returns the API keys (without hashes) and the stream keys' ids.
func (s *Store) List() ([]APIKey, []StreamKey) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	api := make([]APIKey, len(s.f.APIKeys))
	for i, k := range s.f.APIKeys {
		k.Hash = ""
		api[i] = k
	}
	sk := make([]StreamKey, len(s.f.StreamKeys))
	for i, k := range s.f.StreamKeys {
		k.Secret = ""
		sk[i] = k
	}
	sort.Slice(api, func(i, j int) bool { return api[i].ID < api[j].ID })
	return api, sk
}

// Public reports whether name is public for r.
func (s *Store) Public(name base.StreamName, r Right) bool {
	s.mu.RLock()
	mode := s.public[name]
	s.mu.RUnlock()
	switch r {
	case Read:
		return strings.Contains(mode, "read")
	case Write:
		return strings.Contains(mode, "write")
	}
	return false
}

// IsAPIKey reports whether secret is a known API key.
func (s *Store) IsAPIKey(secret []byte) bool {
	_, err := s.apiKey(secret)
	return err == nil
}

// CheckAPIKey returns nil if secret is an API key granting r on name; an
// error wrapping base.ErrUnauthorized for an unknown key and
// base.ErrForbidden for a known key without that right.
func (s *Store) CheckAPIKey(secret []byte, name base.StreamName, r Right) error {
	k, err := s.apiKey(secret)
	if err != nil {
		return err
	}
	if k.Account != name.Account || (k.Stream != "" && k.Stream != name.Name) || !strings.ContainsRune(k.Rights, rune(r)) {
		return base.Errorf(base.ErrForbidden, "this API key may not %s %s", verb(r), name)
	}
	return nil
}

func (s *Store) apiKey(secret []byte) (APIKey, error) {
	h := hashOf(string(secret))
	s.mu.RLock()
	defer s.mu.RUnlock()
	// The map finds the candidate; the hashes are compared in constant time.
	if k, ok := s.byHash[h]; ok && subtle.ConstantTimeCompare([]byte(k.Hash), []byte(h)) == 1 {
		return *k, nil
	}
	return APIKey{}, base.Errorf(base.ErrUnauthorized, "the bearer key is not valid")
}

func verb(r Right) string {
	switch r {
	case Read:
		return "read"
	case Write:
		return "write to"
	}
	return "execute on"
}

// CheckSignature verifies an HMAC-SHA256 signature (hex or base64) of the
// signing string "(request-target): {lower-case method} {path}" by a key of
// stream (keyID "" tries every key of the stream). A bad signature is an
// error wrapping base.ErrUnauthorized.
func (s *Store) CheckSignature(stream base.StreamName, keyID, method, target, signature string) error {
	sig, ok := decodeSignature(signature)
	if !ok {
		return base.Errorf(base.ErrUnauthorized, "signature is neither hex nor base64")
	}
	msg := "(request-target): " + strings.ToLower(method) + " " + target
	s.mu.RLock()
	defer s.mu.RUnlock()
	good, tried := false, 0
	for _, k := range s.f.StreamKeys {
		if k.Stream != stream.String() || (keyID != "" && k.ID != keyID) {
			continue
		}
		tried++
		m := hmac.New(sha256.New, []byte(k.Secret))
		m.Write([]byte(msg))
		if hmac.Equal(m.Sum(nil), sig) {
			good = true
		}
	}
	switch {
	case good:
		return nil
	case tried == 0 && keyID != "":
		// Key ids are not secrets: saying which is unknown costs nothing and
		// tells a client with a deleted key what happened.
		return base.Errorf(base.ErrUnauthorized, "%s has no stream key %.40q (deleted, or of another stream?)", stream, keyID)
	case tried == 0:
		return base.Errorf(base.ErrUnauthorized, "%s has no stream keys to check the signature with", stream)
	}
	return base.Errorf(base.ErrUnauthorized, "the signature does not match a key of %s", stream)
}

func decodeSignature(s string) ([]byte, bool) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == sha256.Size {
		return b, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b, true
		}
	}
	return nil, false
}

// ParseSignatureHeader reads keyId, algorithm, headers and signature from an
// HTTP Signature header. algorithm, when given, must be hmac-sha256;
// headers must be "(request-target)".
func ParseSignatureHeader(h string) (keyID, signature string, err error) {
	params := map[string]string{}
	for _, part := range splitParams(h) {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	if a := params["algorithm"]; a != "" && !strings.EqualFold(a, "hmac-sha256") {
		return "", "", base.Errorf(base.ErrUnauthorized, "Signature algorithm %q: only hmac-sha256 is supported", a)
	}
	if hs := params["headers"]; hs != "(request-target)" {
		return "", "", base.Errorf(base.ErrUnauthorized, `Signature headers %q: want "(request-target)"`, hs)
	}
	if params["signature"] == "" {
		return "", "", base.Errorf(base.ErrUnauthorized, "Signature header without a signature")
	}
	return params["keyid"], params["signature"], nil
}

// splitParams splits on commas outside double quotes.
func splitParams(h string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, h[start:i])
				start = i + 1
			}
		}
	}
	return append(out, h[start:])
}
