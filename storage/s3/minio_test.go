package s3

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The tests run against a real MinIO server (never a mock), started once per
// package run by sharedMinio and stopped by TestMain. Each test works under
// its own key prefix in one bucket.

const (
	minioUser     = "ducktail"
	minioPassword = "ducktail-secret"
	testBucket    = "ducktail-test"
)

// minioServer is one running MinIO process.
type minioServer struct {
	endpoint string // http://127.0.0.1:port
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
	out      *syncBuffer
}

// syncBuffer collects the server's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// shared is the package's MinIO server, started on first use.
var shared struct {
	once sync.Once
	srv  *minioServer
	err  error
	skip string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.stop()
	}
	os.Exit(code)
}

// findMinio returns the path of the minio binary on PATH or in GOPATH/bin.
func findMinio() (string, bool) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, true
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gp, "bin", "minio")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// sharedMinio returns the package's MinIO server with testBucket made,
// skipping the test when the binary is not installed.
func sharedMinio(t *testing.T) *minioServer {
	t.Helper()
	shared.once.Do(func() {
		bin, ok := findMinio()
		if !ok {
			shared.skip = "minio not found on PATH or in $(go env GOPATH)/bin: run .ci/install-minio.sh"
			return
		}
		shared.srv, shared.err = startMinio(bin)
	})
	if shared.skip != "" {
		t.Skip(shared.skip)
	}
	if shared.err != nil {
		t.Fatalf("cannot start minio: %v", shared.err)
	}
	return shared.srv
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startMinio starts a MinIO server on a fresh data directory, waits until
// it answers its liveness probe and then until it creates testBucket (it
// answers 503 XMinioServerNotInitialized for a moment after it is live).
func startMinio(bin string) (*minioServer, error) {
	dir, err := os.MkdirTemp("", "ducktail-minio-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	srv := &minioServer{endpoint: "http://" + addr, dir: dir, exited: make(chan struct{}), out: &syncBuffer{}}
	srv.cmd = exec.Command(bin, "server", filepath.Join(dir, "data"), "--address", addr, "--console-address", console, "--quiet")
	srv.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+minioUser, "MINIO_ROOT_PASSWORD="+minioPassword,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CONFIG_ENV_FILE=")
	srv.cmd.Stdout, srv.cmd.Stderr = srv.out, srv.out
	if err := srv.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot run %s: %w", bin, err)
	}
	go func() { srv.cmd.Wait(); close(srv.exited) }()

	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	hc := &http.Client{Timeout: time.Second}
	client := srv.client(1)
	live := false
	for {
		var err error
		if !live {
			var resp *http.Response
			if resp, err = hc.Get(srv.endpoint + "/minio/health/live"); err == nil {
				resp.Body.Close()
				live = resp.StatusCode == http.StatusOK
			}
		}
		if live {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)})
			cancel()
			if err == nil {
				return srv, nil
			}
		}
		if time.Now().After(deadline) {
			srv.stop()
			return nil, fmt.Errorf("minio at %s not ready after 60s: %v\n%s", addr, err, srv.out)
		}
		select {
		case <-srv.exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("minio exited: %s", srv.out)
		case <-tick.C:
		}
	}
}

// stop kills the server, waits for it and removes its data.
func (m *minioServer) stop() {
	m.cmd.Process.Kill()
	<-m.exited
	os.RemoveAll(m.dir)
}

// client returns a path-style client of the server with static credentials
// and at most attempts tries per request.
func (m *minioServer) client(attempts int) *s3.Client {
	return newClient(m.endpoint, minioUser, minioPassword, attempts)
}

func newClient(endpoint, user, password string, attempts int) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(user, password, ""),
		RetryMaxAttempts: attempts,
	})
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
		Client:   srv.client(3),
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
