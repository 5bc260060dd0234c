// Package ginapp builds the Gin engine the HTTP services (writer, queryapi) mount: release mode, panics answered
// with a bare 500 problem and logged, every request access-logged and counted by route pattern, and unknown
// routes and methods answered with 404 and 405 problems; each request continues the caller's trace and, with
// tracing on, is a server span.
package ginapp

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

// New returns a Gin engine without routes whose middleware traces (see WithTracerName), logs to log and records
// into m; the caller adds routes. Gin's mode is process-wide, so New switches it to release mode (no debug
// output) for every engine.
func New(log *slog.Logger, m *metrics.HTTPMetrics, opts ...Option) *gin.Engine {
	o := options{scope: defaultScope}
	for _, opt := range opts {
		opt(&o)
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(traceRequests(o.scope), observe(log, m), recovery(log))
	e.NoRoute(func(c *gin.Context) {
		problem.Write(c.Writer, problem.New(http.StatusNotFound, "no such route"))
	})
	e.NoMethod(func(c *gin.Context) {
		problem.Write(c.Writer, problem.New(http.StatusMethodNotAllowed, "method not allowed on this route"))
	})
	return e
}

// observe records every request in m under its route pattern (c.FullPath(), "" for no route) and logs it:
// server errors at warn, the rest at info. The path is logged without its query, which may carry user text.
func observe(log *slog.Logger, m *metrics.HTTPMetrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		elapsed := time.Since(start)
		route, status := c.FullPath(), c.Writer.Status()
		m.Observe(c.Request.Method, route, status, elapsed)
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			// The correlation id the handlers chose (from X-Request-Id or generated), so a request's log line
			// and its events can be matched.
			slog.String("request_id", c.Writer.Header().Get("X-Request-Id")),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", elapsed),
			slog.String("remote", c.Request.RemoteAddr),
		}
		if id := traceID(c); id != "" {
			// The trace the request belongs to: the caller's, or the server span's when tracing is on.
			attrs = append(attrs, slog.String("trace_id", id))
		}
		log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
	}
}

// traceID returns the id of the request's trace, "" when it has none.
func traceID(c *gin.Context) string {
	if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// recovery turns a panic in a handler into a logged error with its stack and a 500 problem that says nothing
// of the cause; when the handler had already started its answer, the answer is left as it is.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				// The handler asked net/http to abort the connection; only a panic does that.
				panic(rec)
			}
			log.ErrorContext(c.Request.Context(), "panic serving request",
				"method", c.Request.Method, "route", c.FullPath(), "panic", rec, "stack", string(debug.Stack()))
			c.Abort()
			if !c.Writer.Written() {
				problem.Write(c.Writer, problem.New(http.StatusInternalServerError, "internal error"))
			}
		}()
		c.Next()
	}
}
