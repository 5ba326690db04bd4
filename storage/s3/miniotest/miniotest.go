// Package miniotest runs a real MinIO server for tests (never a mock): the
// storage/s3 tests and the end-to-end tests of the ducktail binary. The
// binary comes from .ci/install-minio.sh; tests skip without it.
//
// It imports the standard library (testing for StartTest) and the AWS SDK.
package miniotest

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
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Credentials of every server Start runs.
const (
	User     = "ducktail"
	Password = "ducktail-secret"
)

// SkipMessage says how to get the binary when Find finds none.
const SkipMessage = "minio not found on PATH or in $(go env GOPATH)/bin: run .ci/install-minio.sh"

// Server is one running MinIO process.
type Server struct {
	Endpoint string // http://127.0.0.1:port
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
	out      *syncBuffer
}

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

// Find returns the path of the minio binary on PATH or in GOPATH/bin.
func Find() (string, bool) {
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

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Start starts bin as a MinIO server on a fresh data directory on loopback
// and returns once it has created bucket (it answers 503
// XMinioServerNotInitialized for a moment after its liveness probe passes).
func Start(bin, bucket string) (*Server, error) {
	dir, err := os.MkdirTemp("", "ducktail-minio-")
	if err != nil {
		return nil, err
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	console, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	srv := &Server{Endpoint: "http://" + addr, dir: dir, exited: make(chan struct{}), out: &syncBuffer{}}
	srv.cmd = exec.Command(bin, "server", filepath.Join(dir, "data"), "--address", addr, "--console-address", console, "--quiet")
	srv.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+User, "MINIO_ROOT_PASSWORD="+Password,
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
	client := srv.Client(1)
	live := false
	for {
		var err error
		if !live {
			var resp *http.Response
			if resp, err = hc.Get(srv.Endpoint + "/minio/health/live"); err == nil {
				resp.Body.Close()
				live = resp.StatusCode == http.StatusOK
			}
		}
		if live {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			cancel()
			if err == nil {
				return srv, nil
			}
		}
		if time.Now().After(deadline) {
			srv.Stop()
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

// Stop kills the server, waits for it and removes its data.
func (m *Server) Stop() {
	m.cmd.Process.Kill()
	<-m.exited
	os.RemoveAll(m.dir)
}

// Output returns what the server printed, for failure messages.
func (m *Server) Output() string { return m.out.String() }

// Client returns a path-style client of the server with static credentials
// and at most attempts tries per request.
func (m *Server) Client(attempts int) *s3.Client {
	return NewClient(m.Endpoint, User, Password, attempts)
}

// NewClient returns a path-style client of endpoint.
func NewClient(endpoint, user, password string, attempts int) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(user, password, ""),
		RetryMaxAttempts: attempts,
	})
}

// StartTest starts a MinIO serving bucket for t, stopped when t ends; t is
// skipped with SkipMessage when there is no MinIO binary.
func StartTest(t testing.TB, bucket string) *Server {
	t.Helper()
	bin, ok := Find()
	if !ok {
		t.Skip(SkipMessage)
	}
	srv, err := Start(bin, bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}
