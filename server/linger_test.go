package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOversizeBodyAnswered: a client that sends a body over MaxBodyBytes in
// full before it reads, as Python's urllib does, gets the 413 and its JSON
// body, not a connection reset (linger.go). The body is several times what
// loopback socket buffers hold, so the server must read it for the write to
// finish at all.
func TestOversizeBodyAnswered(t *testing.T) {
	ts := startServer(t)
	for _, tc := range []struct {
		name   string
		expect bool // send Expect: 100-continue, as curl does
	}{{"write then read", false}, {"expect 100-continue", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			body := bytes.Repeat([]byte("x"), 24<<20)
			head := fmt.Sprintf("POST /user/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
				"Content-Type: text/plain\r\nContent-Length: %d\r\n", testAdminKey, len(body))
			if tc.expect {
				head += "Expect: 100-continue\r\n"
			}
			if _, err := io.WriteString(c, head+"\r\n"); err != nil {
				t.Fatal(err)
			}
			// Whether the server reads it or throws it away, the whole body
			// must go through without a reset.
			if _, err := c.Write(body); err != nil {
				t.Fatalf("writing the body: %v (the server reset the connection instead of draining it)", err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			if resp.StatusCode == http.StatusContinue {
				if resp, err = http.ReadResponse(br, nil); err != nil {
					t.Fatalf("reading the answer after 100 Continue: %v", err)
				}
			}
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the answer's body: %v", err)
			}
			r := response{code: resp.StatusCode, header: resp.Header, body: got}
			if r.code != http.StatusRequestEntityTooLarge || !strings.Contains(r.errorText(t), "1048576") {
				t.Fatalf("got %d %s, want 413 naming the limit", r.code, got)
			}
		})
	}
	// The server is still there for the next client.
	if r := ts.do("GET", "/healthz", nil); r.code != http.StatusOK {
		t.Fatalf("healthz after the oversize bodies: %d %s", r.code, r.body)
	}
}
