// Package metrics exposes Prometheus metrics from a per-service registry, with HTTP request
// instrumentation that keeps label cardinality bounded.
package metrics

import (
	"net/http"
	"runtime"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a fresh registry (never the global default) holding the Go runtime and
// process collectors and app_build_info{service,go_version} set to 1.
func NewRegistry(service string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "app_build_info",
		Help: "Always 1; labels identify the running service and Go version.",
		ConstLabels: prometheus.Labels{
			// Invalid UTF-8 is the one way a label value can be rejected.
			"service":    strings.ToValidUTF8(service, "?"),
			"go_version": runtime.Version(),
		},
	})
	buildInfo.Set(1)
	// Registration into a fresh registry of collectors with distinct, valid descriptors cannot
	// fail, so the errors carry no information.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	_ = reg.Register(buildInfo)
	return reg
}

// Handler serves reg in the Prometheus exposition format, counting its own scrape errors in reg.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
