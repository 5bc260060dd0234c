package ginapp_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

const callerTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// tracedEngine returns an engine whose handlers answer with the traceparent they see in their context, under a
// route only this test uses (the other tests of the package may record spans while tracing is on).
func tracedEngine(t *testing.T) http.Handler {
	t.Helper()
	m, err := metrics.NewHTTPMetrics(metrics.NewRegistry("test"))
	if err != nil {
		t.Fatal(err)
	}
	e := ginapp.New(slog.New(slog.NewTextHandler(io.Discard, nil)), m, ginapp.WithTracerName("test-scope"))
	e.GET("/traced/:id", func(c *gin.Context) {
		c.String(http.StatusOK, tracing.TraceParent(c.Request.Context()))
	})
	e.GET("/traced-fail/:id", func(c *gin.Context) { c.Status(http.StatusServiceUnavailable) })
	return e
}

func get(h http.Handler, path, traceparent string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestTraceRequests turns tracing on and off for the whole process, so it runs its steps in order.
func TestTraceRequests(t *testing.T) {
	h := tracedEngine(t)
	caller, _ := tracing.Parse(callerTraceParent)

	// Off: no span, but the caller's trace context reaches the handler (and so the events) unchanged.
	if got := get(h, "/traced/1", callerTraceParent).Body.String(); got != callerTraceParent {
		t.Errorf("tracing off: handler saw %q, want the caller's %q", got, callerTraceParent)
	}
	if got := get(h, "/traced/1", "").Body.String(); got != "" {
		t.Errorf("tracing off, no caller context: handler saw %q, want none", got)
	}

	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(tracing.Install(tp))

	seen := get(h, "/traced/2", callerTraceParent).Body.String()
	get(h, "/traced/3", "")
	get(h, "/traced-fail/4", "")

	spans := map[string]tracetest.SpanStub{}
	for _, s := range exporter.GetSpans() {
		if s.InstrumentationScope.Name == "test-scope" {
			spans[attrOf(s, "url.path")] = s
		}
	}
	continued, fresh, failed := spans["/traced/2"], spans["/traced/3"], spans["/traced-fail/4"]
	if len(spans) != 3 {
		t.Fatalf("recorded %d server spans in the test scope, want 3", len(spans))
	}
	if continued.Name != "GET /traced/:id" || continued.SpanKind != trace.SpanKindServer {
		t.Errorf("span %q of kind %v, want %q of kind server", continued.Name, continued.SpanKind, "GET /traced/:id")
	}
	if continued.Parent.SpanID() != caller.SpanID() || continued.SpanContext.TraceID() != caller.TraceID() {
		t.Errorf("span's parent = %v, want the caller's span %v", continued.Parent, caller)
	}
	if want := tracing.Format(continued.SpanContext); seen != want {
		t.Errorf("handler saw %q, want the server span's context %q", seen, want)
	}
	if fresh.Parent.IsValid() || !fresh.SpanContext.IsValid() {
		t.Errorf("a request without trace context: span parent %v, want a new trace", fresh.Parent)
	}
	if got := attrOf(continued, "http.route"); got != "/traced/:id" {
		t.Errorf("http.route = %q", got)
	}
	if got := attrOf(failed, "http.response.status_code"); got != "503" || failed.Status.Code != codes.Error {
		t.Errorf("a 503: status code attribute %q, span status %v; want 503 and error", got, failed.Status)
	}
	if got := attrOf(continued, "http.response.status_code"); got != "200" || continued.Status.Code == codes.Error {
		t.Errorf("a 200: status code attribute %q, span status %v", got, continued.Status)
	}
}

func attrOf(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if a.Key == attribute.Key(key) {
			return a.Value.String()
		}
	}
	return ""
}
