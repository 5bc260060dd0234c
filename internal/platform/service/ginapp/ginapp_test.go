package ginapp_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
	"github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
)

const secretCause = "db password is hunter2"

func newEngine(t *testing.T) (http.Handler, *servicetest.Logs, func() string) {
	t.Helper()
	logs := servicetest.NewLogs(t)
	reg := metrics.NewRegistry("test")
	m, err := metrics.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatalf("NewHTTPMetrics: %v", err)
	}
	e := ginapp.New(slog.New(slog.NewJSONHandler(logs, nil)), m)
	e.GET("/v1/rooms/:room", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"id": c.Param("room")}) })
	e.GET("/boom", func(*gin.Context) { panic(secretCause) })
	e.GET("/half", func(c *gin.Context) {
		c.String(http.StatusAccepted, "partial")
		panic("after the answer started")
	})
	scrape := func() string {
		rec := httptest.NewRecorder()
		metrics.Handler(reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return rec.Body.String()
	}
	return e, logs, scrape
}

func TestEngine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path string
		code         int
		problem      bool
		detail       string
	}{
		{http.MethodGet, "/v1/rooms/r1", http.StatusOK, false, ""},
		{http.MethodGet, "/no/such/route", http.StatusNotFound, true, "no such route"},
		{http.MethodPost, "/v1/rooms/r1", http.StatusMethodNotAllowed, true, "method not allowed on this route"},
		{http.MethodGet, "/boom", http.StatusInternalServerError, true, "internal error"},
		{http.MethodGet, "/half", http.StatusAccepted, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			e, _, _ := newEngine(t)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.code {
				t.Fatalf("code = %d, want %d (body %s)", rec.Code, tt.code, rec.Body)
			}
			if !tt.problem {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Errorf("Content-Type = %q, want %q", ct, problem.ContentType)
			}
			var p problem.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("decode %q: %v", rec.Body, err)
			}
			if p.Status != tt.code || p.Detail != tt.detail || p.Type != "about:blank" {
				t.Errorf("problem = %+v, want status %d detail %q", p, tt.code, tt.detail)
			}
		})
	}
}

func TestEnginePanicIsLoggedNotShown(t *testing.T) {
	t.Parallel()
	e, logs, _ := newEngine(t)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Errorf("500 answer shows internal detail: %s", rec.Body)
	}
	out := logs.String()
	for _, want := range []string{`"msg":"panic serving request"`, secretCause, `"stack":"goroutine`, `"route":"/boom"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestEngineAbortHandlerAbortsConnection(t *testing.T) {
	t.Parallel()
	logs := servicetest.NewLogs(t)
	m, err := metrics.NewHTTPMetrics(metrics.NewRegistry("test"))
	if err != nil {
		t.Fatalf("NewHTTPMetrics: %v", err)
	}
	e := ginapp.New(slog.New(slog.NewJSONHandler(logs, nil)), m)
	e.GET("/abort", func(c *gin.Context) {
		c.String(http.StatusOK, "partial")
		panic(http.ErrAbortHandler)
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/abort")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("GET /abort completed, want the connection aborted")
	}
	if strings.Contains(logs.String(), "panic serving request") {
		t.Errorf("abort logged as a panic:\n%s", logs)
	}
}

func TestEngineAccessLogAndMetrics(t *testing.T) {
	t.Parallel()
	e, logs, scrape := newEngine(t)
	for _, path := range []string{"/v1/rooms/r1", "/v1/rooms/r2?q=private", "/nowhere-123"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	body := scrape()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/v1/rooms/:room",status="200"} 2`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "nowhere-123") {
		t.Error("raw path leaked into a metric label")
	}
	out := logs.String()
	if !strings.Contains(out, `"route":"/v1/rooms/:room","path":"/v1/rooms/r2","status":200`) {
		t.Errorf("access log lacks the request:\n%s", out)
	}
	if strings.Contains(out, "private") {
		t.Errorf("access log shows the query:\n%s", out)
	}
}
