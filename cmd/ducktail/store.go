package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/ducktail/ducktail/storage"
	s3store "github.com/ducktail/ducktail/storage/s3"
)

// openStore returns the segment store the config names, and the local
// directory under which DuckDB finds the segments' files (the only
// directory SQL may read). A nil store means the engine's default: local
// files under the data dir.
func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (storage.Store, string, error) {
	if cfg.Storage.Kind != "s3" {
		return nil, filepath.Join(cfg.DataDir, "streams"), nil
	}
	cache := filepath.Join(cfg.DataDir, "cache", "s3")
	c := cfg.Storage.S3
	st, err := s3store.New(ctx, s3store.Options{
		Bucket: c.Bucket, Prefix: c.Prefix, Endpoint: c.Endpoint, Region: c.Region, PathStyle: c.PathStyle,
		CacheDir: cache, Logger: log,
	})
	if err != nil {
		return nil, "", err
	}
	// The cache keeps each object at objects/{key}; segment keys start
	// with streams/.
	return st, filepath.Join(cache, "objects", "streams"), nil
}
