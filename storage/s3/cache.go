package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
)

// fetch is a download in flight; done is closed when err is set.
type fetch struct {
	done chan struct{}
	err  error
}

// Open opens the object at key from its cached copy, downloading it first
// if it is not cached. A missing object is an error wrapping
// base.ErrNotFound.
func (s *Store) Open(ctx context.Context, key string) (storage.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := storage.CheckKey(key); err != nil {
		return nil, err
	}
	path, err := s.ensureCached(ctx, key)
	if err != nil {
		return nil, err
	}
	obj, err := storage.FileObject(s.fsys, path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Deleted since it was cached.
			return nil, base.Errorf(base.ErrNotFound, "s3: no object %s: %w", key, err)
		}
		return nil, fmt.Errorf("s3: cannot open cached copy of %s: %w", key, err)
	}
	return obj, nil
}

// ensureCached returns the path of key's cached copy, downloading it if it
// is missing. Concurrent calls for one key share one download; a caller
// whose shared download failed only because the downloading caller's
// context ended tries again itself.
func (s *Store) ensureCached(ctx context.Context, key string) (string, error) {
	path := s.Path(key)
	for {
		if fi, err := s.fsys.Stat(path); err == nil && fi.Mode().IsRegular() {
			return path, nil
		}
		s.mu.Lock()
		f, waiting := s.fetching[key]
		if !waiting {
			f = &fetch{done: make(chan struct{})}
			s.fetching[key] = f
		}
		s.mu.Unlock()
		if !waiting {
			f.err = s.download(ctx, key, path)
			s.mu.Lock()
			delete(s.fetching, key)
			s.mu.Unlock()
			close(f.done)
			if f.err != nil {
				return "", f.err
			}
			return path, nil
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if f.err == nil {
			return path, nil
		}
		if !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded) {
			return "", f.err
		}
	}
}

// download copies the object at key to a file under tmp/, checks its length
// against the response's Content-Length, fsyncs it and renames it to path.
func (s *Store) download(ctx context.Context, key, path string) error {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.opts.Bucket),
		Key:    aws.String(s.objectKey(key)),
	})
	if err != nil {
		if isNotFound(err) {
			return base.Errorf(base.ErrNotFound, "s3: no object %s: %w", key, err)
		}
		return s.wrapErr("get", key, err)
	}
	defer out.Body.Close()
	tmp := filepath.Join(s.tmpDir, randomName("get-"))
	f, err := s.fsys.Create(tmp)
	if err != nil {
		return fmt.Errorf("s3: cannot create download file %s: %w", tmp, err)
	}
	fail := func(err error) error {
		f.Close()
		s.fsys.Remove(tmp)
		return err
	}
	n, err := io.Copy(f, out.Body)
	if err != nil {
		if ctx.Err() != nil {
			return fail(fmt.Errorf("s3: download of %s: %w", key, ctx.Err()))
		}
		return fail(s.wrapErr("download", key, err))
	}
	if want := out.ContentLength; want != nil && *want != n {
		return fail(s.wrapErr("download", key, fmt.Errorf("got %d bytes, Content-Length %d", n, *want)))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("s3: cannot sync download file %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		s.fsys.Remove(tmp)
		return fmt.Errorf("s3: cannot close download file %s: %w", tmp, err)
	}
	if err := s.place(tmp, path); err != nil {
		s.fsys.Remove(tmp)
		return fmt.Errorf("s3: cannot cache %s: %w", key, err)
	}
	s.opts.Logger.Debug("s3: downloaded", "key", key, "bytes", n)
	return nil
}

// place renames the complete file tmp to the cache path path, making its
// directory.
func (s *Store) place(tmp, path string) error {
	if err := s.fsys.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return s.fsys.Rename(tmp, path)
}

// adopt makes the complete, synced file tmp key's cached copy, best effort:
// on failure it removes tmp and logs.
func (s *Store) adopt(key, tmp string) {
	if err := s.place(tmp, s.Path(key)); err != nil {
		s.fsys.Remove(tmp)
		s.opts.Logger.Warn("s3: cannot cache object", "key", key, "err", err)
	}
}

// cacheBytes makes data key's cached copy, best effort.
func (s *Store) cacheBytes(key string, data []byte) {
	tmp := filepath.Join(s.tmpDir, randomName("put-"))
	f, err := s.fsys.Create(tmp)
	if err != nil {
		s.opts.Logger.Warn("s3: cannot cache object", "key", key, "err", err)
		return
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.fsys.Remove(tmp)
		s.opts.Logger.Warn("s3: cannot cache object", "key", key, "err", err)
		return
	}
	s.adopt(key, tmp)
}
