package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/vfs"
)

// Store is a storage.Store over an S3 bucket with a local cache. See the
// package documentation.
type Store struct {
	opts   Options
	client *s3.Client
	fsys   vfs.FS
	// objDir and tmpDir are the cache's directories: cached copies, and
	// spools and downloads in progress.
	objDir, tmpDir string

	// listPageSize is ListObjectsV2's MaxKeys; 0 leaves S3's default (1000).
	// Tests lower it to see several pages.
	listPageSize int32

	mu sync.Mutex
	// fetching holds the downloads in flight, by key. REQUIRES: mu held.
	fetching map[string]*fetch
}

var (
	_ storage.Store  = (*Store)(nil)
	_ storage.Pather = (*Store)(nil)
)

// New returns a Store on opts.Bucket. It makes the cache directory, removes
// what an earlier process left in its tmp/ directory, and checks with
// HeadBucket that the bucket is reachable with the credentials: an error
// there wraps base.ErrOverCapacity (see the package doc) and says what to
// check. Bad options are an error wrapping base.ErrInvalid.
func New(ctx context.Context, opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cacheDir, err := filepath.Abs(opts.CacheDir)
	if err != nil {
		return nil, base.Errorf(base.ErrInvalid, "s3: bad cache directory %q: %w", opts.CacheDir, err)
	}
	opts.CacheDir = cacheDir
	s := &Store{
		opts:     opts,
		client:   opts.Client,
		fsys:     vfs.OS{},
		objDir:   filepath.Join(cacheDir, "objects"),
		tmpDir:   filepath.Join(cacheDir, "tmp"),
		fetching: make(map[string]*fetch),
	}
	for _, dir := range []string{s.objDir, s.tmpDir} {
		if err := s.fsys.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("s3: cannot create cache directory %s: %w", dir, err)
		}
	}
	if err := s.cleanTmp(); err != nil {
		return nil, err
	}
	if s.client == nil {
		if s.client, err = opts.buildClient(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(opts.Bucket)}); err != nil {
		return nil, s.wrapErr("reach bucket", "", err)
	}
	return s, nil
}

// cleanTmp removes the spools and downloads an earlier process left.
func (s *Store) cleanTmp() error {
	names, err := s.fsys.List(s.tmpDir)
	if err != nil {
		return fmt.Errorf("s3: cannot list %s: %w", s.tmpDir, err)
	}
	for _, name := range names {
		if err := s.fsys.Remove(filepath.Join(s.tmpDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("s3: cannot remove leftover %s: %w", filepath.Join(s.tmpDir, name), err)
		}
	}
	return nil
}

// Client returns the S3 client the store uses.
func (s *Store) Client() *s3.Client { return s.client }

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.opts.Bucket }

// objectKey returns the S3 key of key.
func (s *Store) objectKey(key string) string { return s.opts.Prefix + key }

// Path returns the path of key's cached copy, without downloading it: the
// file may not exist yet; call LocalPath first. It does not check the key.
func (s *Store) Path(key string) string {
	return filepath.Join(s.objDir, filepath.FromSlash(key))
}

// LocalPath returns the path of key's cached copy, downloading the object
// first if it is not cached: for DuckDB's read_parquet. A missing object is
// an error wrapping base.ErrNotFound.
func (s *Store) LocalPath(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := storage.CheckKey(key); err != nil {
		return "", err
	}
	return s.ensureCached(ctx, key)
}

// PutIfAbsent writes data at key only if no object is there, with
// If-None-Match: *. If one is, the error wraps storage.ErrExists. The data is
// also kept as key's cached copy.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := s.upload(ctx, key, bytes.NewReader(data), int64(len(data)), true); err != nil {
		return err
	}
	s.cacheBytes(key, data)
	return nil
}

// List returns the keys of the objects directly under prefix, sorted, with
// ListObjectsV2 and delimiter '/': deeper "directories" are left out, as are
// keys that are not valid object keys (for example "dir/" markers made by
// other tools).
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := storage.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{
		Bucket:    aws.String(s.opts.Bucket),
		Delimiter: aws.String("/"),
	}
	if s.listPageSize > 0 {
		in.MaxKeys = aws.Int32(s.listPageSize)
	}
	if p := s.objectKey(prefix); p != "" {
		in.Prefix = aws.String(p)
	}
	var keys []string
	for pages := s3.NewListObjectsV2Paginator(s.client, in); pages.HasMorePages(); {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.wrapErr("list", prefix, err)
		}
		for _, obj := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(obj.Key), s.opts.Prefix)
			if !ok || !strings.HasPrefix(key, prefix) || strings.Contains(key[len(prefix):], "/") || storage.CheckKey(key) != nil {
				continue
			}
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Delete removes the object at key and its cached copy; a missing key is not
// an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.opts.Bucket),
		Key:    aws.String(s.objectKey(key)),
	})
	if err != nil && !isNotFound(err) {
		return s.wrapErr("delete", key, err)
	}
	if err := s.fsys.Remove(s.Path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("s3: deleted %s but cannot remove its cached copy: %w", key, err)
	}
	return nil
}
