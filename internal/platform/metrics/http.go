package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// unmatched is the route label for requests no route matched; the raw path is never a label.
const unmatched = "unmatched"

// HTTPMetrics counts and times HTTP requests by method, route pattern and status; it is safe for
// concurrent use.
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTPMetrics registers http_requests_total and http_request_duration_seconds in reg, reusing
// them when already registered; it fails when reg holds conflicting metrics of those names.
func NewHTTPMetrics(reg prometheus.Registerer) (*HTTPMetrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status code.",
	}, []string{"method", "route", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "HTTP request latency in seconds, by method and route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})

	var err error
	if requests, err = register(reg, requests); err != nil {
		return nil, fmt.Errorf("register http_requests_total: %w", err)
	}
	if duration, err = register(reg, duration); err != nil {
		return nil, fmt.Errorf("register http_request_duration_seconds: %w", err)
	}
	return &HTTPMetrics{requests: requests, duration: duration}, nil
}

// register registers c, or returns the identical collector reg already holds.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// Observe records one answered request; route is the matched pattern (e.g. Gin's c.FullPath()),
// and "" is recorded as "unmatched".
func (m *HTTPMetrics) Observe(method, route string, status int, d time.Duration) {
	method = normalizeMethod(method)
	if route == "" {
		route = unmatched
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// Middleware observes every request next answers; route maps the request to its pattern and is
// called after next ran, so a router below may have set r.Pattern. A nil route records "unmatched".
func (m *HTTPMetrics) Middleware(route func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		var pattern string
		if route != nil {
			pattern = route(r)
		}
		m.Observe(r.Method, pattern, sw.statusOr200(), time.Since(start))
	})
}

// normalizeMethod maps methods outside the standard set to "OTHER" so clients cannot mint labels.
func normalizeMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	default:
		return "OTHER"
	}
}

// statusWriter remembers the status code; Unwrap lets http.ResponseController reach Flush and
// deadlines on the underlying writer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusOr200() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
