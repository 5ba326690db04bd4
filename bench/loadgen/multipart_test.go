package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestMultipartBodies(t *testing.T) {
	bodies, err := multipartBodies(120, 100, 3)
	if err != nil {
		t.Fatal(err)
	}
	media, params, err := mime.ParseMediaType(multipartContentType)
	if err != nil || media != "multipart/mixed" || params["boundary"] != multipartBoundary {
		t.Fatalf("content type %q: %s %v %v", multipartContentType, media, params, err)
	}
	for v, b := range bodies {
		if b.rows != 100 {
			t.Fatalf("variant %d claims %d rows", v, b.rows)
		}
		if v > 0 && bytes.Equal(b.data, bodies[0].data) {
			t.Fatalf("variant %d equals variant 0", v)
		}
		mr := multipart.NewReader(bytes.NewReader(b.data), multipartBoundary)
		n := 0
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("variant %d part %d: %v", v, n, err)
			}
			data, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) != 120 || !json.Valid(data) || p.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("variant %d part %d: %d bytes, %q: %.40s", v, n, len(data), p.Header.Get("Content-Type"), data)
			}
			n++
		}
		if n != 100 {
			t.Fatalf("variant %d: %d parts, want 100", v, n)
		}
	}
	if _, err := multipartBodies(100, 0, 1); err == nil {
		t.Fatal("0 parts accepted")
	}
}

func TestLoadMultipart(t *testing.T) {
	var badCT, parts atomic.Int64
	url := serve(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Request.Header.ContentType()) != multipartContentType {
			badCT.Add(1)
		}
		parts.Add(int64(bytes.Count(ctx.Request.Body(), []byte("Content-Type: application/json"))))
	})
	res, err := load(config{url: url, conns: 2, duration: time.Minute, maxRequests: 10, bodySize: 200, variants: 2,
		contentType: "application/json", parts: 100, timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 10 || res.RowsPerBody != 100 || badCT.Load() != 0 || parts.Load() != 1000 {
		t.Fatalf("%+v, %d bad content types, %d parts seen", res, badCT.Load(), parts.Load())
	}
	if res.RowsPerS < 99*res.ReqPerS {
		t.Fatalf("rows/s %v is not 100 × req/s %v", res.RowsPerS, res.ReqPerS)
	}
	var errOut bytes.Buffer
	if code := run([]string{"-url", url, "-parts", "-1"}, io.Discard, &errOut); code != 2 {
		t.Fatalf("-parts -1: exit %d %s", code, errOut.String())
	}
}
