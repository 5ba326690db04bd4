package server

import (
	"errors"
	"strconv"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/internal/jsonx"
	"github.com/valyala/fasthttp"
)

// statusOf maps an error's kind to its HTTP status (SPEC 4).
func statusOf(err error) int {
	switch base.KindOf(err) {
	case base.ErrInvalid:
		return fasthttp.StatusBadRequest
	case base.ErrUnauthorized:
		return fasthttp.StatusUnauthorized
	case base.ErrForbidden:
		return fasthttp.StatusForbidden
	case base.ErrNotFound:
		return fasthttp.StatusNotFound
	case base.ErrConflict:
		return fasthttp.StatusConflict
	case base.ErrTooLarge:
		return fasthttp.StatusRequestEntityTooLarge
	case base.ErrUnsupported:
		return fasthttp.StatusUnsupportedMediaType
	case base.ErrRateLimited:
		return fasthttp.StatusTooManyRequests
	case base.ErrOverCapacity, base.ErrClosed:
		return fasthttp.StatusServiceUnavailable
	case base.ErrTimeout:
		return fasthttp.StatusGatewayTimeout
	default:
		return fasthttp.StatusInternalServerError
	}
}

// writeError answers with err as the JSON error body of SPEC 4, with retry
// hints on 429 and 503. Errors without a kind are internal: they are logged
// in full and the client gets a generic message.
func (s *Server) writeError(ctx *fasthttp.RequestCtx, err error) {
	code := statusOf(err)
	msg := err.Error()
	if code == fasthttp.StatusInternalServerError {
		s.log.Error("internal error", "method", string(ctx.Method()), "path", string(ctx.Path()), "err", err)
		if errors.Is(err, base.ErrCorrupt) {
			msg = "internal error: stored data is damaged; see the server log"
		} else {
			msg = "internal error; see the server log"
		}
	}
	retry := base.RetryAfter(err)
	if retry == 0 && (code == fasthttp.StatusTooManyRequests || code == fasthttp.StatusServiceUnavailable) {
		retry = 1000
	}
	writeErrorBody(ctx, code, msg, retry)
}

// keptOnError are the response headers writeErrorBody keeps (applyCORS sets
// them before any handler runs).
var keptOnError = [...]string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Expose-Headers", "Vary"}

func writeErrorBody(ctx *fasthttp.RequestCtx, code int, msg string, retryMs int64) {
	// Whatever the failed handler set goes, but not the CORS headers: a
	// browser hides an answer without them, error body and status alike.
	var kept [len(keptOnError)][]byte
	for i, k := range keptOnError {
		if v := ctx.Response.Header.Peek(k); len(v) > 0 {
			kept[i] = append([]byte(nil), v...)
		}
	}
	ctx.Response.Reset()
	for i, v := range kept {
		if v != nil {
			ctx.Response.Header.SetBytesV(keptOnError[i], v)
		}
	}
	ctx.SetStatusCode(code)
	if code == fasthttp.StatusUnauthorized {
		// RFC 9110 11.6.1: a 401 names the scheme that would be accepted.
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="ducktail"`)
	}
	ctx.SetContentType("application/json")
	b := append(ctx.Response.Body()[:0], `{"error":`...)
	b = jsonx.AppendString(b, msg)
	if retryMs > 0 {
		b = append(b, `,"retry_after_ms":`...)
		b = strconv.AppendInt(b, retryMs, 10)
		ctx.Response.Header.Set("Retry-After", strconv.FormatInt((retryMs+999)/1000, 10))
		ctx.Response.Header.Set("X-Retry-After-Ms", strconv.FormatInt(retryMs, 10))
	}
	b = append(b, "}\n"...)
	ctx.SetBody(b)
}
