package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ducktail/ducktail/storage/s3/miniotest"
)

// TestTLSHTTP2: with tls.cert_file and key_file, the server also listens
// with TLS and answers HTTP/2 over the same handlers.
func TestTLSHTTP2(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, certFile, keyFile)
	tlsAddr, err := miniotest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ducktail.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
tls: {cert_file: %q, key_file: %q, listen: %q}
streams:
  - name: demo/events
    schema: {fields: [{name: timestamp, type: int64}, {name: event, type: utf8}, {name: value, type: float64}]}
`, certFile, keyFile, tlsAddr)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, filepath.Join(dir, "data"), cfg)
	body, err := arrowBody([]demoRow{{Timestamp: 1, Event: "tls", Value: 2.5}})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	req, _ := http.NewRequest("POST", "https://"+tlsAddr+"/ingest/"+p.token, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/vnd.apache.arrow.stream")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST over TLS: %v\n%s", err, p.stderr.String())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || !strings.Contains(string(b), `"rows":1`) {
		t.Fatalf("POST over TLS: %s %d %s", resp.Proto, resp.StatusCode, b)
	}
	if evs := p.readJSON(""); len(evs) != 1 || evs[0].Data.Value != 2.5 {
		t.Fatalf("read back over HTTP/1.1: %+v", evs)
	}
}

func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}
