package s3

import (
	"context"
	"errors"
	"github.com/ducktail/ducktail/storage/s3/miniotest"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
)

// outageTimeout bounds each operation against a server that is down: far
// above what a refused connection takes, so hitting it means a hang.
const outageTimeout = 20 * time.Second

func TestOptionsValidate(t *testing.T) {
	_, err := New(t.Context(), Options{Prefix: "/x", PartSize: 1})
	if !errors.Is(err, base.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
	for _, want := range []string{"storage.s3.bucket", "storage.s3.prefix", "cache directory", "part size"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	o := Options{Prefix: "a/b"}
	o.EnsureDefaults()
	if o.Prefix != "a/b/" || o.PartSize != defaultPartSize || o.Logger == nil {
		t.Fatalf("defaults: %+v", o)
	}
}

func TestNewErrors(t *testing.T) {
	srv := sharedMinio(t)
	dead, err := miniotest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		opts  Options
		kind  error
		words []string
	}{
		{"wrong-secret", Options{Bucket: testBucket, Client: miniotest.NewClient(srv.Endpoint, miniotest.User, "wrong-password", 1)},
			base.ErrOverCapacity, []string{"access denied", "credentials"}},
		{"no-bucket", Options{Bucket: "no-such-bucket", Client: srv.Client(1)},
			base.ErrOverCapacity, []string{"does not exist", "storage.s3.bucket"}},
		{"dead-endpoint", Options{Bucket: testBucket, Client: miniotest.NewClient("http://"+dead, miniotest.User, miniotest.Password, 1)},
			base.ErrOverCapacity, []string{"retry later"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), outageTimeout)
			defer cancel()
			tc.opts.CacheDir = t.TempDir()
			_, err := New(ctx, tc.opts)
			if !errors.Is(err, tc.kind) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want kind %v", err, tc.kind)
			}
			if base.RetryAfter(err) <= 0 {
				t.Errorf("no retry hint in %v", err)
			}
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestOutage stops a MinIO server under a store: every operation that needs
// S3 fails promptly with base.ErrOverCapacity, and objects already cached
// stay readable.
func TestOutage(t *testing.T) {
	sharedMinio(t) // skips without the binary
	bin, _ := miniotest.Find()
	srv, err := miniotest.Start(bin, testBucket)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx := t.Context()
	st, err := New(ctx, Options{Bucket: testBucket, CacheDir: t.TempDir(), Client: srv.Client(1), PartSize: minPartSize})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(ctx, "cached", []byte("still here")); err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	octx, cancel := context.WithTimeout(ctx, outageTimeout)
	defer cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, base.ErrOverCapacity) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s during an outage: %v, want ErrOverCapacity", op, err)
		} else if base.RetryAfter(err) <= 0 {
			t.Errorf("%s: no retry hint in %v", op, err)
		}
	}
	check("PutIfAbsent", st.PutIfAbsent(octx, "a", []byte("x")))
	for _, size := range []int{10, 6 << 20} { // single put and multipart
		w, err := st.Create(octx, "b")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, size))
		check("Commit", w.Commit())
	}
	_, err = st.Open(octx, "uncached")
	check("Open", err)
	_, err = st.LocalPath(octx, "uncached")
	check("LocalPath", err)
	_, err = st.List(octx, "")
	check("List", err)
	check("Delete", st.Delete(octx, "cached"))
	if got := tmpFiles(t, st); len(got) != 0 {
		t.Fatalf("tmp files left: %v", got)
	}
	// A failed Delete leaves the cached copy, still readable.
	obj, err := st.Open(octx, "cached")
	if err != nil {
		t.Fatalf("open cached during an outage: %v", err)
	}
	defer obj.Close()
	if b, _ := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size())); string(b) != "still here" {
		t.Fatalf("cached content %q", b)
	}
}

// TestNewBuildsClient: without Options.Client, New builds one from the AWS
// environment and Endpoint/Region/PathStyle.
func TestNewBuildsClient(t *testing.T) {
	srv := sharedMinio(t)
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", miniotest.User)
	t.Setenv("AWS_SECRET_ACCESS_KEY", miniotest.Password)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	ctx := t.Context()
	st, err := New(ctx, Options{
		Bucket:    testBucket,
		Prefix:    strings.TrimSuffix(testPrefix(t), "/"),
		Endpoint:  srv.Endpoint,
		PathStyle: true,
		CacheDir:  filepath.Join(dir, "cache"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(ctx, "k", []byte("w")); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("second put: %v", err)
	}
	if got := readAll(t, reopen(t, st), "k"); string(got) != "v" {
		t.Fatalf("content %q", got)
	}
}
