// Package ginapp builds the Gin engine the HTTP services (writer, queryapi) mount: release mode, panics answered
// with a bare 500 problem and logged, every request access-logged and counted by route pattern, and unknown
// routes and methods answered with 404 and 405 problems.
package ginapp

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

// New returns a Gin engine without routes whose middleware logs to log and records into m; the caller adds
// routes. Gin's mode is process-wide, so New switches it to release mode (no debug output) for every engine.
func New(log *slog.Logger, m *metrics.HTTPMetrics) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(observe(log, m), recovery(log))
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
		log.LogAttrs(c.Request.Context(), level, "http request",
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
		)
	}
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
