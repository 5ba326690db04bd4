package main

// Process-level end-to-end tests: TestMain builds the real binary once, with
// the duckdb_arrow tag, and the tests run it as a child process on loopback
// ports over temporary data dirs. This file holds the binary, the CLI runner
// and the child environment; e2e_proc_test.go runs servers.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// e2eBinary is the path of the ducktail binary built by TestMain. It is set
// once, before any test runs, and only read afterwards.
var e2eBinary string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ducktail-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot make a temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "ducktail")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The package dir is the working dir of a test binary.
	cmd := exec.CommandContext(ctx, gobin, "build", "-tags", "duckdb_arrow", "-o", bin, ".")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build -tags duckdb_arrow failed: %v\n%s", err, out.String())
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: built %s in %v\n", bin, time.Since(start).Round(time.Millisecond))
	}
	e2eBinary = bin
	return m.Run()
}

// childEnv is the environment of child processes: ours without any
// DUCKTAIL_* variable, so that the caller's settings cannot leak in, plus
// extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DUCKTAIL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// cliResult is what a finished CLI command printed and its exit code.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary with args and waits for it, at most 60 s.
func runCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eBinary, args...)
	cmd.Env = childEnv(env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("ducktail %s: did not finish within 60 s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.stdout, res.stderr)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("ducktail %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// writeFile writes a file for a test, failing it on error.
func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
