package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/arrowipc"
	"github.com/ducktail/ducktail/engine/schema"
	"github.com/ducktail/ducktail/server/token"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/pprofhandler"
)

type topicJSON struct {
	Name     string         `json:"name"`
	TopicID  uint32         `json:"topic_id"`
	Fields   []schema.Field `json:"fields"`
	NextID   *int64         `json:"next_id,omitempty"`
	Buffered *int64         `json:"buffered_rows,omitempty"`
	Segments *int           `json:"segments,omitempty"`
}

func describe(st *engine.Stream) topicJSON {
	stats := st.Stats()
	return topicJSON{
		Name: st.Name().String(), TopicID: st.TopicID(), Fields: schema.ToFields(st.Payload()),
		NextID: &stats.NextID, Buffered: &stats.BufferRows, Segments: &stats.Segments,
	}
}

func writeJSON(ctx *fasthttp.RequestCtx, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeErrorBody(ctx, fasthttp.StatusInternalServerError, "cannot encode the answer: "+err.Error(), 0)
		return
	}
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// decodeBody decodes the request body as one JSON value into v, refusing
// unknown fields; want describes the expected body for the error message.
func decodeBody(ctx *fasthttp.RequestCtx, v any, want string) error {
	dec := json.NewDecoder(bytes.NewReader(ctx.Request.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return base.Errorf(base.ErrInvalid, "%s: %v", want, err)
	}
	return nil
}

// adminAPI serves /_/...: topics, tokens and flush. The admin key was checked.
func (s *Server) adminAPI(ctx *fasthttp.RequestCtx, path []byte) {
	p := string(path)
	m := string(ctx.Method())
	switch {
	case p == "topics" && m == fasthttp.MethodGet:
		out := []topicJSON{}
		for _, st := range s.eng.Streams() {
			out = append(out, describe(st))
		}
		writeJSON(ctx, fasthttp.StatusOK, out)
	case p == "topics" && m == fasthttp.MethodPost:
		s.createTopic(ctx)
	case strings.HasPrefix(p, "topics/") && m == fasthttp.MethodGet:
		name, err := base.ParseStreamName(strings.TrimPrefix(p, "topics/"))
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		st, err := s.eng.Stream(name)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, describe(st))
	case p == "tokens" && m == fasthttp.MethodPost:
		s.mintToken(ctx)
	case strings.HasPrefix(p, "debug/pprof/"):
		// Go's profiler, for operators: the admin key was checked.
		ctx.URI().SetPath("/debug/pprof/" + strings.TrimPrefix(p, "debug/pprof/"))
		pprofhandler.PprofHandler(ctx)
	case strings.HasPrefix(p, "streams/") && !strings.HasSuffix(p, "/keys"):
		s.streamSettingsAPI(ctx, p, m) // settings.go
	case p == "keys" || strings.HasPrefix(p, "keys/") || (strings.HasPrefix(p, "streams/") && strings.HasSuffix(p, "/keys")):
		s.keysAPI(ctx, p, m)
	case p == "flush" && m == fasthttp.MethodPost:
		if err := s.eng.Flush(ctx); err != nil {
			s.writeError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, map[string]bool{"flushed": true})
	default:
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "no admin endpoint %s /_/%s", m, p))
	}
}

// createTopic is POST /_/topics. The body is JSON {"name", "fields"}, or an
// Arrow IPC stream whose schema becomes the topic's, with ?name=account/stream.
func (s *Server) createTopic(ctx *fasthttp.RequestCtx) {
	var nameStr string
	var payload *arrow.Schema
	ct := ctx.Request.Header.ContentType()
	if checkContentType(ct, arrowStreamType) == nil {
		nameStr = string(ctx.QueryArgs().Peek("name"))
		sc, err := arrowipc.DecodeSchema(ctx.Request.Body())
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		payload = sc
	} else {
		var req struct {
			Name   string         `json:"name"`
			Fields []schema.Field `json:"fields"`
		}
		if err := decodeBody(ctx, &req, `topic: body must be JSON {"name", "fields"}`); err != nil {
			s.writeError(ctx, err)
			return
		}
		sc, err := schema.FromFields(req.Fields)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		nameStr, payload = req.Name, sc
	}
	name, err := base.ParseStreamName(nameStr)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	existed := true
	if _, err := s.eng.Stream(name); err != nil {
		existed = false
	}
	st, err := s.eng.CreateTopic(ctx, name, payload)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	code := fasthttp.StatusCreated
	if existed {
		code = fasthttp.StatusOK
	}
	writeJSON(ctx, code, describe(st))
}

// mintToken is POST /_/tokens {"topic", "domain", "tenant", "ttl"}.
func (s *Server) mintToken(ctx *fasthttp.RequestCtx) {
	var req struct {
		Topic  string `json:"topic"`
		Domain string `json:"domain"`
		Tenant uint32 `json:"tenant"`
		TTL    string `json:"ttl"`
	}
	if err := decodeBody(ctx, &req, `token: body must be JSON {"topic", "domain", "tenant", "ttl"}`); err != nil {
		s.writeError(ctx, err)
		return
	}
	name, err := base.ParseStreamName(req.Topic)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	st, err := s.eng.Stream(name)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	claims, err := MintClaims(st.TopicID(), req.Domain, req.Tenant, req.TTL, s.opts.Now())
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	out := map[string]any{"token": s.keys.Load().Mint(claims), "topic": st.Name().String(), "topic_id": st.TopicID()}
	if claims.ExpiresAt != 0 {
		out["expires_at"] = claims.ExpiresAt
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// keysAPI serves the access keys (the admin key was checked):
//
//	POST   /_/keys {"account", "stream", "rights"}  an API key (the secret is shown once)
//	GET    /_/keys                                  the keys, without secrets
//	DELETE /_/keys/{id}                             revoke an API key or stream key
//	POST   /_/streams/{account}/{stream}/keys       a stream key for signatures
func (s *Server) keysAPI(ctx *fasthttp.RequestCtx, p, m string) {
	acc := s.opts.Access
	if acc == nil {
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "access keys are not configured on this server"))
		return
	}
	switch {
	case p == "keys" && m == fasthttp.MethodPost:
		var req struct {
			Account string `json:"account"`
			Stream  string `json:"stream"`
			Rights  string `json:"rights"`
		}
		if err := decodeBody(ctx, &req, `key: body must be JSON {"account", "stream", "rights"}`); err != nil {
			s.writeError(ctx, err)
			return
		}
		k, secret, err := acc.CreateAPIKey(req.Account, req.Stream, req.Rights)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusCreated, map[string]string{
			"id": k.ID, "key": secret, "account": k.Account, "stream": k.Stream, "rights": k.Rights})
	case p == "keys" && m == fasthttp.MethodGet:
		api, sk := acc.List()
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"api_keys": api, "stream_keys": sk})
	case strings.HasPrefix(p, "keys/") && m == fasthttp.MethodDelete:
		if err := acc.Delete(strings.TrimPrefix(p, "keys/")); err != nil {
			s.writeError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, map[string]bool{"deleted": true})
	case strings.HasPrefix(p, "streams/") && m == fasthttp.MethodPost:
		name, err := base.ParseStreamName(strings.TrimSuffix(strings.TrimPrefix(p, "streams/"), "/keys"))
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		k, err := acc.CreateStreamKey(name)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusCreated, map[string]string{"key_id": k.ID, "secret": k.Secret, "stream": k.Stream})
	default:
		s.writeError(ctx, base.Errorf(base.ErrNotFound, "no admin endpoint %s /_/%s", m, p))
	}
}

// MintClaims builds token claims from user-facing options: ttl is a Go
// duration ("24h", "30m"; "" or "0" for a token that never expires).
func MintClaims(topicID uint32, domain string, tenant uint32, ttl string, now time.Time) (token.Claims, error) {
	c := token.Claims{DomainID: token.DomainID(domain), TenantID: tenant, TopicID: topicID}
	if ttl != "" && ttl != "0" {
		d, err := time.ParseDuration(ttl)
		if err != nil || d <= 0 {
			return c, base.Errorf(base.ErrInvalid, "ttl %q: want a positive duration such as 24h", ttl)
		}
		exp := now.Add(d).Unix()
		if exp > 1<<32-1 {
			return c, base.Errorf(base.ErrInvalid, "ttl %q: expiry is past the year 2106", ttl)
		}
		c.ExpiresAt = uint32(exp)
	}
	return c, nil
}
