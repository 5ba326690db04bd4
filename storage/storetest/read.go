package storetest

import (
	"io"
	"testing"

	"github.com/ducktail/ducktail/storage"
)

// ReadAll returns the whole object at key, failing the test if it cannot be
// opened or read.
func ReadAll(t *testing.T, st storage.Store, key string) []byte {
	t.Helper()
	obj, err := st.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}
