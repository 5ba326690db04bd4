package engine

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's Prometheus collectors. They are created per
// Engine and registered on Options.Registerer, never on a global registry.
type metrics struct {
	rowsIngested  *prometheus.CounterVec
	bytesIngested *prometheus.CounterVec
	walSync       prometheus.Histogram
	flushSeconds  prometheus.Histogram
	flushRows     prometheus.Counter
	flushErrors   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, bufferBytes func() float64) (*metrics, error) {
	m := &metrics{
		rowsIngested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ducktail_stream_rows_ingested_total",
			Help: "Rows acknowledged, per stream.",
		}, []string{"stream"}),
		bytesIngested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ducktail_stream_bytes_ingested_total",
			Help: "Request body bytes acknowledged, per stream.",
		}, []string{"stream"}),
		walSync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ducktail_wal_fsync_seconds",
			Help:    "Latency of WAL fsyncs (one per group commit).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ducktail_flush_seconds",
			Help:    "Latency of flushing one stream buffer into a committed segment.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		flushRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ducktail_flush_rows_total",
			Help: "Rows written to Parquet segments.",
		}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ducktail_flush_errors_total",
			Help: "Flushes that failed and will be retried.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.rowsIngested, m.bytesIngested, m.walSync,
		m.flushSeconds, m.flushRows, m.flushErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ducktail_buffer_bytes",
			Help: "Bytes held by unflushed stream buffers.",
		}, bufferBytes),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
