package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
)

// catalogPath is the project's catalog, from this package's directory.
const catalogPath = "../../../deploy/metrics.json"

func TestCatalogFileFollowsTheConventions(t *testing.T) {
	t.Parallel()
	c, err := metrics.ReadCatalog(catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Services {
		own := 0
		for _, m := range c.For(s.Name) {
			if strings.HasPrefix(m.Name, s.Prefix) {
				own++
			}
		}
		if own == 0 {
			t.Errorf("the catalog documents no %s* metric of %s", s.Prefix, s.Name)
		}
	}
}

// validCatalog is a small catalog that passes Validate; each case below breaks one convention of it.
const validCatalog = `{"about": "test", "common_prefixes": ["http_"], "partial_prefixes": ["go_"],
 "services": [{"name": "writer", "prefix": "writer_"}, {"name": "relay", "prefix": "relay_"}],
 "metrics": [
  {"name": "http_requests_total", "type": "counter", "labels": ["route"], "help": "HTTP requests answered.", "services": ["writer", "relay"]},
  {"name": "writer_wait_seconds", "type": "histogram", "labels": [], "help": "Time waited for a write.", "services": ["writer"]},
  {"name": "relay_shards_owned", "type": "gauge", "labels": [], "help": "Shards held by this instance.", "services": ["relay"]}
 ]}`

func TestCatalogValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, old, new string
		want           string // a part of the error; "" for none
	}{
		{"valid", "", "", ""},
		{"counter without _total", `"http_requests_total"`, `"http_requests"`, "only counters, end in _total"},
		{"gauge with _total", `"relay_shards_owned"`, `"relay_shards_total"`, "only counters, end in _total"},
		{"histogram without a unit", `"writer_wait_seconds"`, `"writer_wait"`, "base unit"},
		{"camel case", `"relay_shards_owned"`, `"relay_shardsOwned"`, "snake_case"},
		{"another service's prefix", `"writer_wait_seconds"`, `"relay_wait_seconds"`, `starts with "writer_"`},
		{"common metric without a common prefix", `"http_requests_total"`, `"requests_total"`, "starts with one of"},
		{"unknown service", `"services": ["relay"]}`, `"services": ["reader"]}`, "unknown service"},
		{"reserved label", `"labels": ["route"]`, `"labels": ["le"]`, "reserved"},
		{"repeated label", `"labels": ["route"]`, `"labels": ["route", "route"]`, "repeated"},
		{"help not a sentence", `"Shards held by this instance."`, `"shards"`, "sentence"},
		{"unknown type", `"type": "gauge"`, `"type": "summary"`, "is none of"},
		{"unknown field", `"about": "test"`, `"about": "test", "extra": 1`, "unknown field"},
		{"documented twice", `"relay_shards_owned"`, `"writer_wait_seconds"`, "documented twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := validCatalog
			if tc.old != "" {
				if !strings.Contains(src, tc.old) {
					t.Fatalf("the valid catalog lacks %q", tc.old)
				}
				src = strings.Replace(src, tc.old, tc.new, 1)
			}
			_, err := metrics.ParseCatalog([]byte(src))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("ParseCatalog: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("ParseCatalog error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestCatalogFor(t *testing.T) {
	t.Parallel()
	c, err := metrics.ParseCatalog([]byte(validCatalog))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range c.For("writer") {
		got = append(got, m.Name)
	}
	if strings.Join(got, ",") != "http_requests_total,writer_wait_seconds" {
		t.Errorf("For(writer) = %v, want the common metric and the writer's own", got)
	}
}

// exposition returns the text format of a registry holding what validCatalog documents for the writer, its
// histogram writer_wait_seconds replaced by wait when set, and extra.
func exposition(t *testing.T, wait prometheus.Collector, extra ...prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "HTTP requests answered."}, []string{"route"})
	requests.WithLabelValues("/x").Inc()
	if wait == nil {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "writer_wait_seconds", Help: "Time waited for a write."})
		h.Observe(time.Millisecond.Seconds())
		wait = h
	}
	partial := prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_goroutines_extra", Help: "Undocumented but partial."})
	reg.MustRegister(append([]prometheus.Collector{requests, wait, partial}, extra...)...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestCheckExposition(t *testing.T) {
	t.Parallel()
	c, err := metrics.ParseCatalog([]byte(validCatalog))
	if err != nil {
		t.Fatal(err)
	}
	labelled := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "writer_wait_seconds", Help: "Time waited for a write."}, []string{"kind"})
	labelled.WithLabelValues("a").Observe(1)
	for _, tc := range []struct {
		name    string
		service string
		wait    prometheus.Collector
		extra   []prometheus.Collector
		want    string // a part of the error; "" for none
	}{
		{"as documented", "writer", nil, nil, ""},
		{"a documented metric missing", "relay", nil, nil, "relay_shards_owned is documented but not exposed"},
		{"undocumented metric", "writer", nil, []prometheus.Collector{
			prometheus.NewGauge(prometheus.GaugeOpts{Name: "writer_extra", Help: "Not in the catalog."}),
		}, "writer_extra is exposed but not documented"},
		{"a labelled metric with no series", "writer",
			prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "writer_wait_seconds", Help: "Time waited for a write."}, []string{"kind"}),
			nil, "writer_wait_seconds is documented but not exposed"},
		{"other labels", "writer", labelled, nil, "has a series labelled [kind], documented labels []"},
		{"other help", "writer",
			prometheus.NewHistogram(prometheus.HistogramOpts{Name: "writer_wait_seconds", Help: "Something else."}),
			nil, `help is "Something else."`},
		{"other type", "writer",
			prometheus.NewGauge(prometheus.GaugeOpts{Name: "writer_wait_seconds", Help: "Time waited for a write."}),
			nil, "is a gauge, documented as a histogram"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := c.CheckExposition(tc.service, strings.NewReader(exposition(t, tc.wait, tc.extra...)))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckExposition: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("CheckExposition error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckExpositionRejectsGarbage(t *testing.T) {
	t.Parallel()
	c, err := metrics.ParseCatalog([]byte(validCatalog))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckExposition("writer", strings.NewReader("not { a metric\n")); err == nil {
		t.Fatal("CheckExposition accepted text that is no exposition")
	}
}
