package runner

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the projectors' Prometheus metrics, labelled by projector; a nil *Metrics records nothing.
type Metrics struct {
	applied    *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	gapFilled  *prometheus.CounterVec
	dlq        *prometheus.CounterVec
	retries    *prometheus.CounterVec
	halted     *prometheus.GaugeVec
	batch      *prometheus.HistogramVec
	freshness  *prometheus.HistogramVec
	lag        *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them in reg (nil: not registered); it fails when reg refuses
// them.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "projector_events_applied_total", Help: "Events applied to a read model.",
		}, []string{"projector"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "projector_duplicates_total", Help: "Events delivered again and skipped by their aggregate seq.",
		}, []string{"projector"}),
		gapFilled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "projector_gap_events_total", Help: "Missing events fetched from the journal to fill a gap.",
		}, []string{"projector"}),
		dlq: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "projector_dlq_total", Help: "Events sent to the dead-letter topic (poison or parked behind one).",
		}, []string{"projector"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "projector_retries_total", Help: "Failed tries of a batch (retried with backoff, never skipped).",
		}, []string{"projector"}),
		halted: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "projector_partitions_halted", Help: "Partitions stopped by a gap the journal could not fill.",
		}, []string{"projector"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "projector_batch_duration_seconds", Help: "Time to apply and commit one batch, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"projector"}),
		freshness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "projector_freshness_seconds",
			Help: "Time from an event's occurred_at to its commit in the read model (plus the time until readers see it, for a target that publishes its writes later, e.g. a search refresh).",
			// 10 ms to ~5.8 h: from the live path to a replay of old history.
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 21),
		}, []string{"projector"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "projector_lag_records", Help: "Records not yet applied, per projector version, topic and partition.",
		}, []string{"projector", "version", "topic", "partition"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.applied, m.duplicates, m.gapFilled, m.dlq, m.retries, m.halted, m.batch, m.freshness, m.lag} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register projector metrics: %w", err)
		}
	}
	return m, nil
}

// start exposes the projector's series at zero before its first batch, the rare ones (DLQ, retries, halted
// partitions, gaps) included, so that rate() and alerts see their first event.
func (m *Metrics) start(name string) {
	if m == nil {
		return
	}
	for _, c := range []*prometheus.CounterVec{m.applied, m.duplicates, m.gapFilled, m.dlq, m.retries} {
		c.WithLabelValues(name)
	}
	m.halted.WithLabelValues(name)
	m.batch.WithLabelValues(name)
	m.freshness.WithLabelValues(name)
}

// observe records a committed batch: p is its plan, took its time, visible when its events became visible to
// readers (zero: no reader sees this version yet, and no freshness is recorded).
func (m *Metrics) observe(name string, p plan, took time.Duration, visible time.Time) {
	if m == nil {
		return
	}
	if !visible.IsZero() {
		fresh := m.freshness.WithLabelValues(name)
		for _, ev := range p.apply {
			fresh.Observe(max(visible.Sub(ev.OccurredAt).Seconds(), 0))
		}
	}
	m.applied.WithLabelValues(name).Add(float64(len(p.apply)))
	m.duplicates.WithLabelValues(name).Add(float64(p.dups))
	m.gapFilled.WithLabelValues(name).Add(float64(p.gapFilled))
	m.dlq.WithLabelValues(name).Add(float64(len(p.dlq)))
	m.batch.WithLabelValues(name).Observe(took.Seconds())
}

func (m *Metrics) retried(name string) {
	if m != nil {
		m.retries.WithLabelValues(name).Inc()
	}
}

func (m *Metrics) halt(name string, _ topicPartition) {
	if m != nil {
		m.halted.WithLabelValues(name).Inc()
	}
}

// SetLag records lags as the projector_lag_records gauge of version.
func (m *Metrics) SetLag(name string, version int, lags []PartitionLag) {
	if m == nil {
		return
	}
	for _, l := range lags {
		m.lag.WithLabelValues(name, strconv.Itoa(version), l.Topic, strconv.Itoa(int(l.Partition))).Set(float64(l.Lag()))
	}
}
