package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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

func TestParseRetention(t *testing.T) {
	f := func(v string, want time.Duration, ok bool) {
		t.Helper()
		got, err := parseRetention(v)
		if (err == nil) != ok || (ok && got != want) {
			t.Fatalf("parseRetention(%q) = %v, %v; want %v ok=%v", v, got, err, want, ok)
		}
	}
	f("", 0, true)
	f("30d", 30*24*time.Hour, true)
	f("1.5d", 36*time.Hour, true)
	f("12h", 12*time.Hour, true)
	f("90m", 90*time.Minute, true)
	f("0d", 0, false)
	f("-1h", 0, false)
	f("forever", 0, false)
	f("d", 0, false)
	if _, err := parseConfig([]byte("streams:\n  - name: a/b\n    retention: soon\n    schema: {fields: [{name: x, type: int64}]}\n")); err == nil ||
		!strings.Contains(err.Error(), "streams[0].retention") {
		t.Fatalf("bad retention in config: %v", err)
	}
}

func TestConfigStreams(t *testing.T) {
	cfg, err := parseConfig([]byte(`
streams:
  - name: user/stream
    rate_limit: {events_per_second: 100, bytes_per_second: 1048576}
  - name: demo/events
    schema: {fields: [{name: x, type: int64}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Streams[0].Schema != nil || cfg.Streams[0].RateLimit.EventsPerSecond != 100 || cfg.Streams[1].Schema == nil {
		t.Fatalf("streams: %+v", cfg.Streams)
	}
	if _, err := parseConfig([]byte("streams:\n  - name: a/b\n    rate_limit: {events_per_second: -1}\n")); err == nil ||
		!strings.Contains(err.Error(), "streams[0].rate_limit") {
		t.Fatalf("negative rate: %v", err)
	}
	if _, err := parseConfig([]byte("streams:\n  - name: a/b\n    rate_limit: {events: 1}\n")); err == nil ||
		!strings.Contains(err.Error(), `unknown key "events"`) {
		t.Fatalf("unknown rate_limit key: %v", err)
	}
}
