package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/writer/adapters"
)

// cacheStats is what the metrics need of a repository: its hot cache's size and its counts.
type cacheStats interface {
	CacheStats() (entries, bytes int)
	Stats() adapters.Stats
}

// registerCacheMetrics exposes per aggregate type the hot caches' entries and estimated bytes, the commands
// decided again (conflicts, rechecked rejections) and the background snapshot saves; it returns an error when the
// registry refuses a collector.
func registerCacheMetrics(svc *service.Service, rooms, accounts cacheStats) error {
	for kind, repo := range map[string]cacheStats{"room": rooms, "account": accounts} {
		labels := prometheus.Labels{"aggregate_type": kind}
		entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "writer_aggregate_cache_entries", Help: "Aggregates held in the hot cache.", ConstLabels: labels,
		}, func() float64 { n, _ := repo.CacheStats(); return float64(n) })
		bytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "writer_aggregate_cache_bytes", Help: "Estimated memory of the aggregates in the hot cache.",
			ConstLabels: labels,
		}, func() float64 { _, b := repo.CacheStats(); return float64(b) })
		collectors := []prometheus.Collector{entries, bytes}
		for reason, count := range map[string]func(adapters.Stats) int64{
			"conflict": func(s adapters.Stats) int64 { return s.Conflicts },
			"recheck":  func(s adapters.Stats) int64 { return s.Rechecks },
		} {
			collectors = append(collectors, counter(repo, "writer_command_retries_total",
				"Commands decided again: after another writer appended first (conflict), or to check a rejection decided on the hot cache against the journal (recheck).",
				prometheus.Labels{"aggregate_type": kind, "reason": reason}, count))
		}
		for result, count := range map[string]func(adapters.Stats) int64{
			"saved":   func(s adapters.Stats) int64 { return s.SnapshotsSaved },
			"failed":  func(s adapters.Stats) int64 { return s.SnapshotsFailed },
			"skipped": func(s adapters.Stats) int64 { return s.SnapshotsSkipped },
		} {
			collectors = append(collectors, counter(repo, "writer_snapshot_saves_total",
				"Background snapshot saves by result: saved, failed (the aggregate loads from an older one), skipped (every save slot busy).",
				prometheus.Labels{"aggregate_type": kind, "result": result}, count))
		}
		for _, c := range collectors {
			if err := svc.Registry().Register(c); err != nil {
				return fmt.Errorf("register cache metrics: %w", err)
			}
		}
	}
	return nil
}

// counter is a counter read from one of repo's counts.
func counter(repo cacheStats, name, help string, labels prometheus.Labels, count func(adapters.Stats) int64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
		func() float64 { return float64(count(repo.Stats())) })
}
