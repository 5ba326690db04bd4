package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ducktail/ducktail/server/token"
)

// loadOrCreateKey reads a hex key from path, or creates it with n random
// bytes, mode 0600. A key file readable by others is refused.
func loadOrCreateKey(path string, n int) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, n)
		if _, err := rand.Read(key); err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, false, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, err
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, false, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, false, err
		}
		return key, true, f.Close()
	}
	if err != nil {
		return nil, false, err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("%s has mode %v: it must not be readable by others (chmod 600)", path, st.Mode().Perm())
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != n {
		return nil, false, fmt.Errorf("%s: want %d hex-encoded bytes", path, n)
	}
	return key, false, nil
}

func secretPath(c *Config) string {
	if c.SecretFile != "" {
		return c.SecretFile
	}
	return filepath.Join(c.DataDir, "secret.key")
}

// tokenKeys loads the token secret (creating it if asked) and the previous
// secret of a rotation, if configured.
func tokenKeys(c *Config, create bool) (*token.Keys, bool, error) {
	path := secretPath(c)
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, false, fmt.Errorf("no secret at %s (start the server once, or set secret_file): %w", path, err)
		}
	}
	secret, created, err := loadOrCreateKey(path, token.SecretSize)
	if err != nil {
		return nil, false, fmt.Errorf("secret: %w", err)
	}
	k, err := token.NewKeys(secret)
	if err != nil {
		return nil, false, err
	}
	if c.PreviousSecretFile != "" {
		prev, _, err := loadOrCreateKey(c.PreviousSecretFile, token.SecretSize)
		if err != nil {
			return nil, false, fmt.Errorf("previous_secret_file: %w", err)
		}
		st, _ := os.Stat(secretPath(c))
		since := time.Now()
		if st != nil {
			since = st.ModTime()
		}
		if k, err = k.WithPrevious(prev, since.Add(c.SecretGrace)); err != nil {
			return nil, false, err
		}
	}
	return k, created, nil
}

// adminKey returns DUCKTAIL_ADMIN_KEY, or the key in {data}/admin.key,
// created on first use.
func adminKey(c *Config) (string, error) {
	if k := os.Getenv("DUCKTAIL_ADMIN_KEY"); k != "" {
		return k, nil
	}
	key, _, err := loadOrCreateKey(filepath.Join(c.DataDir, "admin.key"), 32)
	if err != nil {
		return "", fmt.Errorf("admin key: %w", err)
	}
	return hex.EncodeToString(key), nil
}
