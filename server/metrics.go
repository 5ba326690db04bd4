package server

import (
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// httpMetrics are the HTTP metrics of SPEC 4.4.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	active   prometheus.Gauge
	received prometheus.Counter
	handler  fasthttp.RequestHandler
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"route"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_active_connections", Help: "Open HTTP connections.",
		}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "http_bytes_received", Help: "Request body bytes received.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.active, m.received} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.handler = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return m, nil
}

func (m *httpMetrics) observe(route string, code int, d time.Duration, bodyBytes int) {
	m.requests.WithLabelValues(route, statusLabel(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
	m.received.Add(float64(bodyBytes))
}

func (m *httpMetrics) connState(_ net.Conn, st fasthttp.ConnState) {
	switch st {
	case fasthttp.StateNew:
		m.active.Inc()
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		m.active.Dec()
	}
}

func (s *Server) serveMetrics(ctx *fasthttp.RequestCtx) { s.metrics.handler(ctx) }

// statusLabel is strconv.Itoa(code), without allocating for the codes
// most requests get.
func statusLabel(code int) string {
	switch code {
	case 200:
		return "200"
	case 201:
		return "201"
	case 204:
		return "204"
	}
	return strconv.Itoa(code)
}
