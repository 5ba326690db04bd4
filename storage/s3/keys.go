package s3

import (
	"crypto/rand"
	"encoding/hex"
)

// tmpRandLen is the number of hex digits of a random file name's suffix.
const tmpRandLen = 16

// randomName returns a fresh random file name with the given prefix.
func randomName(prefix string) string {
	var b [tmpRandLen / 2]byte
	rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	return prefix + hex.EncodeToString(b[:])
}
