package server

import (
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/ducktail/ducktail/server/path"
)

// CORSOptions are http_ingestion.cors (SPEC 4.1).
type CORSOptions struct {
	// AllowedOrigins are origins ("https://app.example.com") allowed to call
	// the API from a browser; "*" allows any. Empty: no CORS headers at all.
	AllowedOrigins   []string
	MaxAgeSeconds    int
	AllowCredentials bool
}

const (
	corsHeaders       = "Content-Type, Authorization, Event-Type, Timestamp, Signature, Last-Event-ID, Accept"
	corsExposeHeaders = "Retry-After, X-Retry-After-Ms, Content-Type"
)

func (o *CORSOptions) allowed(origin []byte) bool {
	for _, a := range o.AllowedOrigins {
		if a == "*" || strings.EqualFold(a, string(origin)) {
			return true
		}
	}
	return false
}

// applyCORS adds the CORS response headers for an allowed Origin. It reports
// whether the request came from a browser origin that is not allowed.
func (s *Server) applyCORS(ctx *fasthttp.RequestCtx) (refused bool) {
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 || len(s.opts.CORS.AllowedOrigins) == 0 {
		return false
	}
	if !s.opts.CORS.allowed(origin) {
		return true
	}
	h := &ctx.Response.Header
	h.Add("Vary", "Origin")
	h.SetBytesV("Access-Control-Allow-Origin", origin)
	if s.opts.CORS.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	return false
}

// preflight answers an OPTIONS request.
func (s *Server) preflight(ctx *fasthttp.RequestCtx) {
	origin := ctx.Request.Header.Peek("Origin")
	method := ctx.Request.Header.Peek("Access-Control-Request-Method")
	allow := pathMethods(ctx)
	if len(origin) == 0 || len(method) == 0 {
		ctx.Response.Header.Set("Allow", allow)
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	if len(s.opts.CORS.AllowedOrigins) == 0 || !s.opts.CORS.allowed(origin) {
		writeErrorBody(ctx, fasthttp.StatusForbidden, "origin "+strconv.Quote(string(origin))+
			" is not allowed (http_ingestion.cors.allowed_origins)", 0)
		return
	}
	if !slices.Contains(strings.Split(allow, ", "), string(method)) {
		writeErrorBody(ctx, fasthttp.StatusForbidden, "method "+strconv.Quote(string(method))+" is not allowed on this path; it allows "+allow, 0)
		return
	}
	s.applyCORS(ctx)
	h := &ctx.Response.Header
	h.Set("Access-Control-Allow-Methods", allow)
	if req := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(req) > 0 {
		h.SetBytesV("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", corsHeaders)
	}
	if s.opts.CORS.MaxAgeSeconds > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(s.opts.CORS.MaxAgeSeconds))
	}
	h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// pathMethods returns the methods the API serves on the request's path, for
// an OPTIONS request's Allow and a preflight's Access-Control-Allow-Methods:
// a preflight for a method the path would answer 405 is refused already.
func pathMethods(ctx *fasthttp.RequestCtx) string {
	if e, ok := endpointOf(ctx.Path()); ok {
		return e.methods + ", OPTIONS"
	}
	p, err := parsePath(ctx)
	if err != nil {
		// Every method answers the path's 400; these are the ones a
		// well-formed stream path can take.
		return "GET, HEAD, POST, PUT, OPTIONS"
	}
	return streamMethods(p) + ", OPTIONS"
}

// streamMethods are the methods a stream path p serves, the Allow of its
// 405: every stream path is read; one without selectors, document suffix,
// reducer, logs or pipe is written to; one naming only a type (no
// substream, no [n]) takes the type's definition.
func streamMethods(p *path.Path) string {
	if len(p.Chain) > 0 || p.Suffix != "" || p.Logs || p.Pipe != nil {
		return "GET, HEAD"
	}
	if p.Type == "" || p.Sub != nil || p.Index >= 0 {
		return "GET, HEAD, POST"
	}
	return "GET, HEAD, POST, PUT"
}
