package server

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// ServeHTTP serves a net/http request with the same handlers as the fasthttp
// listener. The TLS listener uses it because net/http speaks HTTP/2 and
// fasthttp does not (SPEC 8). The body is read whole, bounded by
// MaxBodyBytes; answers are buffered, except a live subscription's, which
// streams (streamBody).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.URL.RequestURI())
	req.Header.SetHost(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	var raddr net.Addr
	if a, err := net.ResolveTCPAddr("tcp", r.RemoteAddr); err == nil {
		raddr = a
	}
	ctx.Init(&req, raddr, fasthttpLogger{s.log})
	if r.ContentLength > int64(s.opts.MaxBodyBytes) {
		writeErrorBody(&ctx, fasthttp.StatusRequestEntityTooLarge, "request body is over the server's limit", 0)
	} else {
		body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.opts.MaxBodyBytes)+1))
		switch {
		case err != nil:
			writeErrorBody(&ctx, fasthttp.StatusBadRequest, "cannot read the request body: "+err.Error(), 0)
		case len(body) > s.opts.MaxBodyBytes:
			writeErrorBody(&ctx, fasthttp.StatusRequestEntityTooLarge, "request body is over the server's limit", 0)
		default:
			ctx.Request.SetBodyRaw(body)
			ctx.SetUserValue(clientGoneKey{}, r.Context().Done())
			s.handle(&ctx)
		}
	}
	h := w.Header()
	for k, v := range ctx.Response.Header.All() {
		switch string(k) {
		case "Content-Length", "Connection", "Transfer-Encoding", "Date", "Server":
			continue // net/http sets these, and HTTP/2 forbids the hop-by-hop ones
		}
		h.Add(string(k), string(v))
	}
	if ctx.Response.IsBodyStream() {
		streamBody(w, &ctx.Response, s.opts.writeTimeout)
		return
	}
	body := ctx.Response.Body()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(ctx.Response.StatusCode())
	w.Write(body)
}

// streamBody copies a streamed answer (a live subscription) to w as it is
// written, flushing each piece, until it ends or the client goes; each
// write gets the timeout, so a client that stops reading is let go. The
// handler's writer sees the client go through clientGoneKey, since
// net/http cancels the request's context when ServeHTTP returns.
func streamBody(w http.ResponseWriter, resp *fasthttp.Response, timeout time.Duration) {
	defer resp.CloseBodyStream()
	w.WriteHeader(resp.StatusCode())
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	body := resp.BodyStream()
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			rc.SetWriteDeadline(time.Now().Add(timeout))
			if _, werr := w.Write(buf[:n]); werr != nil || rc.Flush() != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
