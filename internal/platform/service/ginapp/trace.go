package ginapp

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

// Option adjusts the engine New builds.
type Option func(*options)

type options struct {
	scope string
}

// WithTracerName names the tracer (instrumentation scope) of the engine's server spans, e.g.
// tracing.ScopeWriter; the default is the ginapp package.
func WithTracerName(scope string) Option {
	return func(o *options) { o.scope = scope }
}

// defaultScope is the tracer name of an engine built without WithTracerName.
const defaultScope = "github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"

// traceRequests continues the caller's trace (an incoming traceparent header) and, when tracing is on, wraps
// the request in a server span named by its route pattern, so a command's events are stamped with the span's
// context. When tracing is off it only passes a caller's traceparent on, at the cost of a header lookup.
func traceRequests(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		if tp := c.GetHeader(tracing.HeaderTraceParent); tp != "" {
			ctx = tracing.ContextWithTraceParent(ctx, tp)
		}
		if !tracing.Enabled() {
			if ctx != c.Request.Context() {
				c.Request = c.Request.WithContext(ctx)
			}
			c.Next()
			return
		}
		method := c.Request.Method
		ctx, span := tracing.Tracer(scope).Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.URLPath(c.Request.URL.Path)))
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		if route := c.FullPath(); route != "" {
			span.SetName(method + " " + route)
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		status := c.Writer.Status()
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
}
