package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/server/token"
)

// TestSecretRotation: with previous_secret_file, tokens minted with the old
// secret stay valid for secret_grace after the new secret was written, and
// not after.
func TestSecretRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{DataDir: dir}
	cfg.setDefaults()
	oldKeys, created, err := tokenKeys(cfg, true)
	if err != nil || !created {
		t.Fatalf("first secret: created=%v err=%v", created, err)
	}
	if st, _ := os.Stat(secretPath(cfg)); st.Mode().Perm() != 0o600 {
		t.Fatalf("secret mode %v", st.Mode().Perm())
	}
	tok := oldKeys.Mint(token.Claims{TopicID: 1})

	// Rotate: the old secret moves to previous_secret_file, a new one is made.
	prev := filepath.Join(dir, "previous.key")
	if err := os.Rename(secretPath(cfg), prev); err != nil {
		t.Fatal(err)
	}
	cfg.PreviousSecretFile = prev
	cfg.SecretGrace = time.Hour
	rotated, created, err := tokenKeys(cfg, true)
	if err != nil || !created {
		t.Fatalf("new secret: created=%v err=%v", created, err)
	}
	if _, err := rotated.Verify([]byte(tok), time.Now()); err != nil {
		t.Fatalf("old token refused during the grace period: %v", err)
	}
	if _, err := rotated.Verify([]byte(tok), time.Now().Add(2*time.Hour)); !errors.Is(err, base.ErrUnauthorized) {
		t.Fatalf("old token after the grace period: %v", err)
	}
	if _, err := rotated.Verify([]byte(rotated.Mint(token.Claims{TopicID: 1})), time.Now()); err != nil {
		t.Fatalf("new token refused: %v", err)
	}
	// A key file readable by others is refused.
	if err := os.Chmod(prev, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tokenKeys(cfg, true); err == nil {
		t.Fatal("a previous secret readable by others was accepted")
	}
}
