package server

import (
	"bytes"
	"mime"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/schema"
	"github.com/ducktail/ducktail/internal/jsonx"
	"github.com/ducktail/ducktail/server/token"
	"github.com/valyala/fasthttp"
)

const arrowStreamType = "application/vnd.apache.arrow.stream"

// authToken verifies an ingest token and its domain binding and returns its
// claims and topic.
func (s *Server) authToken(ctx *fasthttp.RequestCtx, tok []byte) (token.Claims, *engine.Stream, error) {
	c, err := s.keys.Load().Verify(tok, s.opts.Now())
	if err != nil {
		return c, nil, err
	}
	if err := token.CheckOrigin(c, string(ctx.Request.Header.Peek("Origin")), string(ctx.Request.Header.Referer())); err != nil {
		return c, nil, err
	}
	st, err := s.eng.StreamByTopic(c.TopicID)
	if err != nil {
		return c, nil, err
	}
	return c, st, nil
}

// ingest is POST /ingest/{token} (SPEC 4.1).
func (s *Server) ingest(ctx *fasthttp.RequestCtx, tok []byte) {
	c, st, err := s.authToken(ctx, tok)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	body := ctx.Request.Body()
	if len(body) > s.opts.MaxIngestBytes {
		s.writeError(ctx, base.Errorf(base.ErrTooLarge, "request body is %d bytes, over the limit of %d (http_ingestion.max_request_bytes)",
			len(body), s.opts.MaxIngestBytes))
		return
	}
	if err := checkContentType(ctx.Request.Header.ContentType(), arrowStreamType); err != nil {
		s.writeError(ctx, err)
		return
	}
	res, err := s.eng.AppendArrow(ctx, st, body, c.TenantID)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetContentType("application/json")
	b := append(ctx.Response.Body()[:0], `{"topic":`...)
	b = jsonx.AppendString(b, st.Label())
	b = append(b, `,"rows":`...)
	b = strconv.AppendInt(b, res.Rows, 10)
	b = append(b, `,"first_id":`...)
	b = strconv.AppendInt(b, res.FirstID, 10)
	b = append(b, `,"last_id":`...)
	b = strconv.AppendInt(b, res.LastID, 10)
	b = append(b, "}\n"...)
	ctx.SetBody(b)
}

// checkContentType accepts exactly the media type want, with any parameters.
func checkContentType(ct []byte, want string) error {
	mt := ct
	if i := bytes.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = bytes.TrimSpace(mt)
	if bytes.EqualFold(mt, []byte(want)) {
		return nil
	}
	if len(mt) == 0 {
		return base.Errorf(base.ErrUnsupported, "missing Content-Type: want %s", want)
	}
	if _, _, err := mime.ParseMediaType(string(ct)); err != nil {
		return base.Errorf(base.ErrUnsupported, "Content-Type %q does not parse: want %s", ct, want)
	}
	return base.Errorf(base.ErrUnsupported, "Content-Type %s is not supported here: want %s", mt, want)
}

// ingestSchema is GET /ingest/{token}/schema: the topic schema as JSON, or as
// an Arrow IPC stream with no batches when the client asks for Arrow.
func (s *Server) ingestSchema(ctx *fasthttp.RequestCtx, tok []byte) {
	_, st, err := s.authToken(ctx, tok)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if bytes.Contains(ctx.Request.Header.Peek("Accept"), []byte(arrowStreamType)) {
		ctx.SetContentType(arrowStreamType)
		w := ipc.NewWriter(ctx, ipc.WithSchema(st.Payload()))
		if err := w.Close(); err != nil {
			s.writeError(ctx, err)
		}
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, topicJSON{
		Name: st.Name().String(), TopicID: st.TopicID(), Fields: schema.ToFields(st.Payload()),
	})
}
