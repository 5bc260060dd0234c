package forward

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// streamErrorKinds are the kind labels of relay_stream_errors_total: countStreamError's and a shard gone
// before it was read to its end.
var streamErrorKinds = []string{"expired", "trimmed", "throttled", "gone", "other"}

// Metrics are the relay's Prometheus metrics.
type Metrics struct {
	records      *prometheus.CounterVec
	recordAge    prometheus.Histogram
	produce      prometheus.Histogram
	shardsOwned  prometheus.Gauge
	trimmed      prometheus.Counter
	leasesLost   prometheus.Counter
	streamErrors *prometheus.CounterVec
	publishFails prometheus.Counter
}

// NewMetrics creates the metrics and registers them in reg (nil: not registered, for tests); it fails when
// reg refuses them.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relay_records_total", Help: "Events published to Kafka and acknowledged, per topic.",
		}, []string{"topic"}),
		recordAge: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "relay_stream_record_age_seconds", Help: "Time from a stream record's creation to its acknowledgement by Kafka.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}),
		produce: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "relay_produce_latency_seconds", Help: "Time to have one batch acknowledged by Kafka.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		shardsOwned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "relay_shards_owned", Help: "Stream shards this instance holds the lease of.",
		}),
		trimmed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relay_trimmed_total", Help: "Times records were trimmed from the stream before being relayed (re-seed needed).",
		}),
		leasesLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relay_leases_lost_total", Help: "Shard leases lost to another instance while reading.",
		}),
		streamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relay_stream_errors_total", Help: "Stream API errors, by kind (expired, trimmed, throttled, gone, other).",
		}, []string{"kind"}),
		publishFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relay_publish_failures_total", Help: "Batches Kafka did not acknowledge (retried).",
		}),
	}
	// Errors are rare: every kind is exposed at zero from the start, so that rate() and alerts see the first one.
	for _, kind := range streamErrorKinds {
		m.streamErrors.WithLabelValues(kind)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		m.records, m.recordAge, m.produce, m.shardsOwned, m.trimmed, m.leasesLost, m.streamErrors, m.publishFails,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register relay metrics: %w", err)
		}
	}
	return m, nil
}
