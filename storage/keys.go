package storage

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/ducktail/ducktail/base"
)

// tmpMarker separates an object's name from the random part of its
// temporary file's name: "x.parquet.tmp0123456789abcdef".
const tmpMarker = ".tmp"

// tmpRandLen is the number of hex digits after tmpMarker.
const tmpRandLen = 16

// CheckKey reports whether key is a well-formed object key: relative,
// '/'-separated, no empty, '.' or '..' segment, no backslash or NUL, not
// ending in '/', and not named like a temporary file. Every Store takes the
// same keys.
func CheckKey(key string) error {
	if key == "" || strings.HasSuffix(key, "/") {
		return base.Errorf(base.ErrInvalid, "storage: invalid key %q: empty or ends in '/'", key)
	}
	if err := checkSegments(key); err != nil {
		return err
	}
	if isTemp(key[strings.LastIndexByte(key, '/')+1:]) {
		return base.Errorf(base.ErrInvalid, "storage: invalid key %q: looks like a temporary file", key)
	}
	return nil
}

// CheckPrefix reports whether prefix is "" or a well-formed "directory"
// key ending in '/'.
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if !strings.HasSuffix(prefix, "/") {
		return base.Errorf(base.ErrInvalid, "storage: invalid prefix %q: must end in '/'", prefix)
	}
	return checkSegments(strings.TrimSuffix(prefix, "/"))
}

func checkSegments(p string) error {
	if strings.ContainsAny(p, "\\\x00") {
		return base.Errorf(base.ErrInvalid, "storage: invalid key %q: backslash or NUL", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return base.Errorf(base.ErrInvalid, "storage: invalid key %q: empty, '.' or '..' segment", p)
		}
	}
	return nil
}

// isTemp reports whether a file name is a temporary file made by tempName.
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

// tempName returns a fresh temporary file name beside path.
func tempName(path string) string {
	var b [tmpRandLen / 2]byte
	rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	return path + tmpMarker + hex.EncodeToString(b[:])
}
