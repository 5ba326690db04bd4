// Package sharedtest finds the development workspace's shared folder
// (../shared beside the repository: SPEC.md, the Arrow IPC and JTD test
// corpora) for tests that read it, and skips them when it is absent, as it
// is in a user's clone.
//
// It imports only the standard library.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Find returns the shared folder, found by walking up from the working
// directory (a package's directory under go test); ok is false when there
// is none.
func Find() (dir string, ok bool) {
	d, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		cand := filepath.Join(d, "shared")
		if _, err := os.Stat(filepath.Join(cand, "SPEC.md")); err == nil {
			return cand, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

// Dir returns the shared folder, or skips t with a message saying why.
func Dir(t testing.TB) string {
	t.Helper()
	d, ok := Find()
	if !ok {
		t.Skip("../shared (the development workspace's test corpora) is not beside the repository: skipping")
	}
	return d
}
