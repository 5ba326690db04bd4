package s3

import (
	"fmt"
	"github.com/ducktail/ducktail/storage/s3/miniotest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The tests run against a real MinIO server (never a mock), started once per
// package run by sharedMinio and stopped by TestMain. Each test works under
// its own key prefix in one bucket.

const testBucket = "ducktail-test"

// shared is the package's MinIO server, started on first use.
var shared struct {
	once sync.Once
	srv  *miniotest.Server
	err  error
	skip string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	os.Exit(code)
}

// sharedMinio returns the package's MinIO server with testBucket made,
// skipping the test when the binary is not installed.
func sharedMinio(t *testing.T) *miniotest.Server {
	t.Helper()
	shared.once.Do(func() {
		bin, ok := miniotest.Find()
		if !ok {
			shared.skip = miniotest.SkipMessage
			return
		}
		shared.srv, shared.err = miniotest.Start(bin, testBucket)
	})
	if shared.skip != "" {
		t.Skip(shared.skip)
	}
	if shared.err != nil {
		t.Fatalf("cannot start minio: %v", shared.err)
	}
	return shared.srv
}

// prefixSeq makes each test's prefix unique within a package run.
var prefixSeq atomic.Int64

// testPrefix returns a fresh key prefix for t.
func testPrefix(t *testing.T) string {
	name := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, t.Name())
	return fmt.Sprintf("t/%s-%d/", name, prefixSeq.Add(1))
}

// newTestStore returns a Store on the shared server under a fresh prefix, with
// a fresh cache directory; edit changes the options first.
func newTestStore(t *testing.T, edit func(*Options)) *Store {
	t.Helper()
	srv := sharedMinio(t)
	opts := Options{
		Bucket:   testBucket,
		Prefix:   testPrefix(t),
		CacheDir: t.TempDir(),
		Client:   srv.Client(3),
	}
	if edit != nil {
		edit(&opts)
	}
	s, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reopen returns a second Store on st's bucket and prefix with an empty cache
// directory: a node restarted on an empty disk.
func reopen(t *testing.T, st *Store) *Store {
	t.Helper()
	opts := st.opts
	opts.CacheDir = t.TempDir()
	s, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawKeys lists every object under st's prefix, at any depth.
func rawKeys(t *testing.T, st *Store) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(st.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(st.opts.Bucket), Prefix: aws.String(st.opts.Prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), st.opts.Prefix))
		}
	}
	return keys
}
