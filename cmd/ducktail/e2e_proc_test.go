package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a running `ducktail serve` child process.
type proc struct {
	t        *testing.T
	cmd      *exec.Cmd
	data     string
	url      string // http://127.0.0.1:PORT
	token    string // the demo/events ingest token printed at start-up
	adminKey string
	banner   string // the "listening on" line
	client   *http.Client

	stderr lockedBuffer
	done   chan struct{} // closed when the process has exited
	state  *os.ProcessState
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	listenLine = regexp.MustCompile(`^ducktail \S+ listening on (http://127\.0\.0\.1:\d+) \(data dir .*, durability (sync|buffered)\)$`)
	tokenLine  = regexp.MustCompile(`^ingest token for demo/events \(30 days\): ([0-9a-f]{64})$`)
)

// startProc starts `ducktail serve --data data --listen 127.0.0.1:0`, with
// --config config unless it is "", waits (at most 60 s) for the listen
// address and the demo token on stdout and for /healthz to answer 200. The
// process is killed in t.Cleanup if it still runs.
func startProc(t *testing.T, data, config string, env ...string) *proc {
	t.Helper()
	args := []string{"serve", "--data", data, "--listen", "127.0.0.1:0"}
	if config != "" {
		args = append(args, "--config", config)
	}
	p := &proc{t: t, data: data, done: make(chan struct{})}
	p.cmd = exec.Command(e2eBinary, args...)
	p.cmd.Env = childEnv(env...)
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody listens any more; keep draining the pipe
			}
		}
	}()
	go func() {
		p.cmd.Wait() // the exit status is read from ProcessState
		p.state = p.cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("stderr of ducktail serve --data %s:\n%s", data, tail(p.stderr.String(), 4000))
		}
	})

	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for p.url == "" || p.token == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				<-p.done
				t.Fatalf("ducktail serve exited before printing its address and token (%v); stderr:\n%s", p.state, p.stderr.String())
			}
			if m := listenLine.FindStringSubmatch(line); m != nil {
				p.url, p.banner = m[1], line
			} else if m := tokenLine.FindStringSubmatch(line); m != nil {
				p.token = m[1]
			}
		case <-deadline.C:
			t.Fatalf("ducktail serve printed no address and token within 60 s; stderr:\n%s", p.stderr.String())
		}
	}
	p.client = &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
	}
	t.Cleanup(p.client.CloseIdleConnections)
	key := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DUCKTAIL_ADMIN_KEY="); ok {
			key = v
		}
	}
	if key == "" {
		b, err := os.ReadFile(filepath.Join(data, "admin.key"))
		if err != nil {
			t.Fatalf("admin key: %v", err)
		}
		key = strings.TrimSpace(string(b))
	}
	p.adminKey = key
	p.waitHealthy()
	return p
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitHealthy polls /healthz until it answers 200, at most 30 s.
func (p *proc) waitHealthy() {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 10_000; i++ {
		resp, err := p.client.Get(p.url + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) || p.exited() {
			p.t.Fatalf("/healthz did not answer 200 within 30 s after %d tries (last error %v)", i+1, err)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
	p.t.Fatalf("/healthz did not answer 200 in 10000 tries")
}

// stop sends sig and waits for the exit, at most 30 s; it returns the exit
// code (-1 when killed by a signal).
func (p *proc) stop(sig syscall.Signal) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !p.exited() {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("ducktail serve did not exit within 30 s of %v", sig)
	}
	p.client.CloseIdleConnections()
	return p.state.ExitCode()
}

// kill9 kills the process with SIGKILL and waits for it to be gone.
func (p *proc) kill9() {
	p.t.Helper()
	if code := p.stop(syscall.SIGKILL); code != -1 {
		p.t.Fatalf("after SIGKILL the exit code is %d; the process had exited already: %v", code, p.state)
	}
}

// do sends a request and returns the status and body. Transport errors are
// returned, not fatal: a crash test expects them.
func (p *proc) do(method, path string, hdr map[string]string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, p.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// mustDo is do that fails the test on a transport error or another status
// than want.
func (p *proc) mustDo(want int, method, path string, hdr map[string]string, body []byte) []byte {
	p.t.Helper()
	code, b, err := p.do(method, path, hdr, body)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		p.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	return b
}

func (p *proc) admin() map[string]string {
	return map[string]string{"Authorization": "Bearer " + p.adminKey}
}

// sql runs POST /sql with the admin key and returns the JSON answer.
func (p *proc) sql(q string) []byte {
	p.t.Helper()
	return p.mustDo(http.StatusOK, http.MethodPost, "/sql", p.admin(), []byte(q))
}

// flush runs POST /_/flush.
func (p *proc) flush() {
	p.t.Helper()
	p.mustDo(http.StatusOK, http.MethodPost, "/_/flush", p.admin(), nil)
}

func (p *proc) String() string { return fmt.Sprintf("ducktail serve at %s on %s", p.url, p.data) }
