package s3

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/ducktail/ducktail/base"
)

// These rules mirror storage.Local's, so that a key valid on one store is
// valid on the other.

// tmpMarker and tmpRandLen shape the names Local gives its temporary files
// ("x.parquet.tmp0123456789abcdef"); such names are not valid keys.
const (
	tmpMarker  = ".tmp"
	tmpRandLen = 16
)

// checkKey reports whether key is a well-formed object key.
func checkKey(key string) error {
	if key == "" || strings.HasSuffix(key, "/") {
		return base.Errorf(base.ErrInvalid, "s3: invalid key %q: empty or ends in '/'", key)
	}
	if err := checkSegments(key); err != nil {
		return err
	}
	if isTemp(key[strings.LastIndexByte(key, '/')+1:]) {
		return base.Errorf(base.ErrInvalid, "s3: invalid key %q: looks like a temporary file", key)
	}
	return nil
}

// checkPrefix reports whether prefix is "" or a well-formed "directory" key
// ending in '/'.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if !strings.HasSuffix(prefix, "/") {
		return base.Errorf(base.ErrInvalid, "s3: invalid prefix %q: must end in '/'", prefix)
	}
	return checkSegments(strings.TrimSuffix(prefix, "/"))
}

func checkSegments(p string) error {
	if strings.ContainsAny(p, "\\\x00") {
		return base.Errorf(base.ErrInvalid, "s3: invalid key %q: backslash or NUL", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return base.Errorf(base.ErrInvalid, "s3: invalid key %q: empty, '.' or '..' segment", p)
		}
	}
	return nil
}

// isTemp reports whether a file name looks like a temporary file's.
func isTemp(name string) bool {
	i := strings.LastIndex(name, tmpMarker)
	if i < 0 || len(name)-i-len(tmpMarker) != tmpRandLen {
		return false
	}
	for _, c := range name[i+len(tmpMarker):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// randomName returns a fresh random file name with the given prefix.
func randomName(prefix string) string {
	var b [tmpRandLen / 2]byte
	rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	return prefix + hex.EncodeToString(b[:])
}
