package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
)

// TestAccess: API keys with rights per account or stream, stream keys with
// HMAC signatures (hex header, base64 query, rotation), public streams, and
// 401 versus 403.
func TestAccess(t *testing.T) {
	ts := startServer(t)
	apiKey := func(account, stream, rights string) (id, key string) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"account": account, "stream": stream, "rights": rights})
		r := ts.admin("POST", "/_/keys", body)
		var out struct{ ID, Key string }
		r.json(t, &out)
		if r.code != 201 || out.Key == "" {
			t.Fatalf("create key: %d %s", r.code, r.body)
		}
		return out.ID, out.Key
	}
	as := func(key string) []string {
		return []string{"Authorization", "Bearer " + key, "Content-Type", "text/plain"}
	}
	code := func(want int, r response) {
		t.Helper()
		if r.code != want {
			t.Fatalf("%d %s, want %d", r.code, r.body, want)
		}
		if want >= 400 {
			r.errorText(t)
		}
	}
	for _, bad := range []string{"", "rwz", "rr", "rwxr", "read"} {
		body, _ := json.Marshal(map[string]string{"account": "user", "rights": bad})
		code(400, ts.admin("POST", "/_/keys", body))
	}
	for _, stream := range []string{"", "cron"} {
		body, _ := json.Marshal(map[string]string{"account": "sys", "stream": stream, "rights": "r"})
		if r := ts.admin("POST", "/_/keys", body); r.code != 400 || !strings.Contains(r.errorText(t), "reserved") {
			t.Errorf("a key for sys/%s: %d %s, want 400 saying the account is reserved", stream, r.code, r.body)
		}
	}
	_, writer := apiKey("user", "", "w")
	readerID, reader := apiKey("user", "", "r")
	_, other := apiKey("other", "", "rw")
	_, one := apiKey("user", "stream", "rw")

	code(200, ts.do("POST", "/user/stream", []byte("by the account's writer"), as(writer)...))
	code(403, ts.do("GET", "/user/stream", nil, as(writer)...)) // no read right
	code(200, ts.do("GET", "/user/stream", nil, as(reader)...)) //
	code(403, ts.do("POST", "/user/stream", []byte("x"), as(reader)...))
	code(403, ts.do("GET", "/user/stream", nil, as(other)...)) // another account
	code(200, ts.do("POST", "/user/stream", []byte("x"), as(one)...))
	code(403, ts.do("POST", "/user/elsewhere", []byte("x"), as(one)...)) // another stream
	code(401, ts.do("GET", "/user/stream", nil, as("dtk_not_a_key")...))
	code(401, ts.do("GET", "/user/stream", nil))
	code(403, ts.do("POST", "/sql", []byte("select 1"), as(writer)...)) // SQL needs the read right
	code(403, ts.do("GET", "/_/keys", nil, as(reader)...))

	// Stream keys: HMAC-SHA256 of "(request-target): post /user/signed".
	streamKey := func() (id, secret string) {
		t.Helper()
		r := ts.admin("POST", "/_/streams/user/signed/keys", nil)
		var out struct {
			KeyID  string `json:"key_id"`
			Secret string `json:"secret"`
		}
		r.json(t, &out)
		if r.code != 201 {
			t.Fatalf("stream key: %d %s", r.code, r.body)
		}
		return out.KeyID, out.Secret
	}
	k1, s1 := streamKey()
	k2, s2 := streamKey() // rotation: both are valid
	sign := func(secret, target string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("(request-target): post " + target))
		return m.Sum(nil)
	}
	header := func(keyID string, sig string) []string {
		return []string{"Content-Type", "text/plain", "Signature",
			fmt.Sprintf(`keyId="%s", algorithm="hmac-sha256", headers="(request-target)", signature="%s"`, keyID, sig)}
	}
	code(200, ts.do("POST", "/user/signed", []byte("signed, hex"), header(k1, hex.EncodeToString(sign(s1, "/user/signed")))...))
	code(200, ts.do("POST", "/user/signed", []byte("signed, second key"), header(k2, hex.EncodeToString(sign(s2, "/user/signed")))...))
	q := url.Values{"key": {k1}, "signature": {base64.StdEncoding.EncodeToString(sign(s1, "/user/signed"))}}
	code(200, ts.do("POST", "/user/signed?"+q.Encode(), []byte("signed, base64 query (sendBeacon)"), "Content-Type", "text/plain"))
	code(401, ts.do("POST", "/user/signed", []byte("x"), header(k1, hex.EncodeToString(sign(s2, "/user/signed")))...)) // wrong key's signature
	code(401, ts.do("POST", "/user/other", []byte("x"), header(k1, hex.EncodeToString(sign(s1, "/user/other")))...))   // another stream
	// An invalid signature is 401 whatever else the request carries; a
	// valid one writes whatever bearer key comes with it.
	bad := hex.EncodeToString(sign(s2, "/user/signed"))
	code(401, ts.do("POST", "/user/signed", []byte("x"), append(header(k1, bad), as(writer)...)...))
	code(200, ts.do("POST", "/user/signed", []byte("signed, with a read key"), append(header(k1, hex.EncodeToString(sign(s1, "/user/signed"))), as(reader)...)...))
	for _, c := range []struct {
		r    response
		code int
		says string
	}{
		{ts.do("POST", "/user/signed", []byte("x"), header("sk_gone", hex.EncodeToString(sign(s1, "/user/signed")))...), 401, `no stream key "sk_gone"`},
		{ts.do("POST", "/user/nokeys", []byte("x"), header("", hex.EncodeToString(sign(s1, "/user/nokeys")))...), 401, "no stream keys"},
		{ts.do("POST", "/user/signed?key="+k1, []byte("x"), "Content-Type", "text/plain"), 401, "?signature= is missing"},
		{ts.do("POST", "/user/signed", []byte("x"), "Authorization", "Basic dTpw"), 401, "Authorization: Basic is not a scheme"},
	} {
		if c.r.code != c.code || !strings.Contains(c.r.errorText(t), c.says) {
			t.Errorf("%d %s, want %d saying %q", c.r.code, c.r.body, c.code, c.says)
		}
	}
	// A signature is checked on any request; a valid one only writes.
	code(401, ts.do("GET", "/user/signed?"+q.Encode(), nil)) // signed for POST, not GET
	getSig := hmac.New(sha256.New, []byte(s1))
	getSig.Write([]byte("(request-target): get /user/signed"))
	readSigned := ts.do("GET", "/user/signed", nil, header(k1, hex.EncodeToString(getSig.Sum(nil)))...)
	code(403, readSigned)
	if msg := readSigned.errorText(t); !strings.Contains(msg, "writes only") {
		t.Fatalf("a read with a signature: %q, want it to say signatures authorise writes only", msg)
	}

	// Public streams.
	code(200, ts.do("POST", "/user/pub", []byte("x"), as(writer)...))
	ts.srv.opts.Access.SetPublic(base.StreamName{Account: "user", Name: "pub"}, "read")
	code(200, ts.do("GET", "/user/pub", nil))
	code(200, ts.do("GET", "/user/pub", nil, as(other)...)) // any valid key reads what anyone may
	code(401, ts.do("GET", "/user/pub", nil, as("dtk_not_a_key")...))
	code(401, ts.do("POST", "/user/pub", []byte("x"), "Content-Type", "text/plain"))
	code(403, ts.do("POST", "/user/pub", []byte("x"), as(other)...))
	// Public writes and signatures append events; they do not define types.
	ts.srv.opts.Access.SetPublic(base.StreamName{Account: "user", Name: "pubw"}, "write")
	code(200, ts.do("POST", "/user/pubw", []byte("anyone"), "Content-Type", "text/plain"))
	const jtd = `{"properties": {"q": {"type": "string"}}}`
	code(401, ts.do("PUT", "/user/pubw:t", []byte(jtd)))
	putSig := hmac.New(sha256.New, []byte(s1))
	putSig.Write([]byte("(request-target): put /user/signed:t"))
	code(403, ts.do("PUT", "/user/signed:t", []byte(jtd), header(k1, hex.EncodeToString(putSig.Sum(nil)))...))
	code(401, ts.do("PUT", "/user/signed:t", []byte(jtd), header(k1, hex.EncodeToString(sign(s1, "/user/signed:t")))...)) // signed for POST
	code(200, ts.do("POST", "/user/pubw", []byte("another account's key"), as(other)...))
	code(401, ts.do("POST", "/user/pubw", []byte("x"), header(k1, bad)...)) // a bad signature is not ignored on a public stream
	code(200, ts.do("POST", "/user/pubw", []byte("x"), "Authorization", "Basic dTpw"))
	putOther := ts.do("PUT", "/user/pubw:t", []byte(jtd), as(other)...) // the public mode does not lend it the write right
	if putOther.code != 403 || !strings.Contains(putOther.errorText(t), "public for writes") {
		t.Fatalf("a type PUT on a public stream with another account's key: %d %s", putOther.code, putOther.body)
	}
	code(201, ts.do("PUT", "/user/pubw:t", []byte(jtd), as(writer)...))
	if r := ts.do("GET", "/user/nope", nil); r.code != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("a 401 without WWW-Authenticate: Bearer: %d %q", r.code, r.header.Get("WWW-Authenticate"))
	}

	// Revocation, and the list shows no secrets. A subscription the key
	// opened ends, and gets no event appended after the deletion.
	live := ts.subscribe("/user/stream?data=true", "Authorization", "Bearer "+reader)
	anon := ts.subscribe("/user/pub", "Authorization", "")
	code(200, ts.do("POST", "/user/stream", []byte("before"), as(writer)...))
	if ev := live.next(); !strings.Contains(ev["data"], `"before"`) {
		t.Fatalf("live event before the deletion: %v", ev)
	}
	code(200, ts.admin("DELETE", "/_/keys/"+readerID, nil))
	code(200, ts.do("POST", "/user/stream", []byte("after"), as(writer)...))
	code(401, ts.do("GET", "/user/stream", nil, as(reader)...))
	live.wantEnd()
	// Making a stream private ends its anonymous subscriptions.
	ts.srv.opts.Access.SetPublic(base.StreamName{Account: "user", Name: "pub"}, "")
	anon.wantEnd()
	r := ts.admin("GET", "/_/keys", nil)
	var list struct {
		APIKeys []map[string]any `json:"api_keys"`
		Stream  []map[string]any `json:"stream_keys"`
	}
	r.json(t, &list)
	// Only the server's user reads what holds secrets or events.
	for _, name := range []string{"access.json", "wal"} {
		p := filepath.Join(ts.dir, name)
		if name == "wal" {
			files, _ := filepath.Glob(filepath.Join(ts.dir, "wal", "*.wal"))
			if len(files) == 0 {
				t.Fatalf("no WAL file in %s", p)
			}
			p = files[0]
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v mode %v, want no access for group and others", p, err, fi.Mode())
		}
	}
	_, hash := list.APIKeys[0]["hash"]
	_, secret := list.Stream[0]["secret"]
	if len(list.APIKeys) != 3 || len(list.Stream) != 2 || hash || secret {
		t.Fatalf("key list: %s", r.body)
	}
}
