package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
)

// scrape fetches the exposition text of reg through Handler, as Prometheus would.
func scrape(tb testing.TB, reg *prometheus.Registry) string {
	tb.Helper()
	srv := httptest.NewServer(metrics.Handler(reg))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		tb.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read scrape: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("scrape status %d: %s", resp.StatusCode, body)
	}
	return string(body)
}

func assertLines(tb testing.TB, body string, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			tb.Errorf("scrape lacks %q", w)
		}
	}
}

func TestNewRegistry(t *testing.T) {
	t.Parallel()
	body := scrape(t, metrics.NewRegistry("writer"))
	assertLines(t, body,
		`app_build_info{go_version="`+runtime.Version()+`",service="writer"} 1`,
		"go_goroutines ",
		"process_start_time_seconds ",
	)
}

func TestNewRegistryIsFresh(t *testing.T) {
	t.Parallel()
	a, b := metrics.NewRegistry("a"), metrics.NewRegistry("b")
	if a == b || a == prometheus.DefaultRegisterer {
		t.Fatal("NewRegistry returned a shared registry")
	}
	if body := scrape(t, b); strings.Contains(body, `service="a"`) {
		t.Error("registry b exposes registry a's build info")
	}
}

func TestHTTPMetricsMiddleware(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry("queryapi")
	m, err := metrics.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatalf("NewHTTPMetrics: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/rooms/{room}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	mux.HandleFunc("GET /v1/rooms", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("[]"))
	})
	h := m.Middleware(func(r *http.Request) string { return r.Pattern }, mux)

	requests := []struct{ method, path string }{
		{http.MethodGet, "/v1/rooms/r1"},
		{http.MethodGet, "/v1/rooms/r2"},
		{http.MethodGet, "/v1/rooms"},
		{http.MethodGet, "/no/such/path-123"},
		{"BREW", "/v1/rooms"},
	}
	for _, r := range requests {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, nil))
	}

	body := scrape(t, reg)
	assertLines(t, body,
		`http_requests_total{method="GET",route="GET /v1/rooms/{room}",status="418"} 2`,
		`http_requests_total{method="GET",route="GET /v1/rooms",status="200"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_requests_total{method="OTHER",route="unmatched",status="405"} 1`,
		`http_request_duration_seconds_count{method="GET",route="GET /v1/rooms/{room}"} 2`,
		`http_request_duration_seconds_bucket{method="GET",route="GET /v1/rooms",le="+Inf"} 1`,
	)
	if strings.Contains(body, "path-123") || strings.Contains(body, "/v1/rooms/r1") {
		t.Error("raw path leaked into a label")
	}
}

func TestHTTPMetricsObserve(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := metrics.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatalf("NewHTTPMetrics: %v", err)
	}
	m.Observe(http.MethodPost, "/v1/rooms/:room/messages", http.StatusCreated, 20*time.Millisecond)
	m.Observe(http.MethodPost, "", http.StatusNotFound, time.Millisecond)
	assertLines(t, scrape(t, reg),
		`http_requests_total{method="POST",route="/v1/rooms/:room/messages",status="201"} 1`,
		`http_requests_total{method="POST",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_sum{method="POST",route="/v1/rooms/:room/messages"} 0.02`,
	)
}

func TestNewHTTPMetricsTwiceReuses(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a, err := metrics.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatalf("first NewHTTPMetrics: %v", err)
	}
	b, err := metrics.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatalf("second NewHTTPMetrics: %v", err)
	}
	a.Observe(http.MethodGet, "/x", http.StatusOK, 0)
	b.Observe(http.MethodGet, "/x", http.StatusOK, 0)
	assertLines(t, scrape(t, reg), `http_requests_total{method="GET",route="/x",status="200"} 2`)
}

func TestNewHTTPMetricsConflict(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	clash := prometheus.NewGauge(prometheus.GaugeOpts{Name: "http_requests_total", Help: "clash"})
	if err := reg.Register(clash); err != nil {
		t.Fatalf("register clash: %v", err)
	}
	if _, err := metrics.NewHTTPMetrics(reg); err == nil {
		t.Fatal("NewHTTPMetrics: want error on conflicting metric, got nil")
	}
}
