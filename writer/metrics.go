package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cqrses-aws/pipeline/internal/platform/service"
)

// cacheStats is what the metrics need of a repository: its hot cache's size.
type cacheStats interface {
	CacheStats() (entries, bytes int)
}

// registerCacheMetrics exposes the hot aggregate caches' entries and estimated bytes per aggregate type; it
// returns an error when the registry refuses the gauges.
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
		for _, c := range []prometheus.Collector{entries, bytes} {
			if err := svc.Registry().Register(c); err != nil {
				return fmt.Errorf("register cache metrics: %w", err)
			}
		}
	}
	return nil
}
