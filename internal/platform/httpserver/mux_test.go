package httpserver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/httpserver"
)

func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, s) })
}

func TestMux(t *testing.T) {
	t.Parallel()
	const notFound = `{"type":"about:blank","title":"Not Found","status":404,"detail":"no such route"}`
	full := httpserver.Mux(text("live"), text("ready"), text("metrics"), text("app"))
	noApp := httpserver.Mux(text("live"), text("ready"), nil, nil)
	tests := []struct {
		name  string
		h     http.Handler
		path  string
		code  int
		body  string
		ctype string
	}{
		{"healthz", full, "/healthz", 200, "live", ""},
		{"readyz", full, "/readyz", 200, "ready", ""},
		{"metrics", full, "/metrics", 200, "metrics", ""},
		{"app", full, "/v1/rooms", 200, "app", ""},
		{"root to app", full, "/", 200, "app", ""},
		{"subpath to app", full, "/healthz/x", 200, "app", ""},
		{"nil app", noApp, "/v1/rooms", 404, notFound, "application/problem+json"},
		{"nil metrics", noApp, "/metrics", 404, notFound, "application/problem+json"},
		{"probe with nil app", noApp, "/readyz", 200, "ready", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.code || strings.TrimSpace(rec.Body.String()) != tt.body {
				t.Errorf("%s = %d %q, want %d %q", tt.path, rec.Code, rec.Body.String(), tt.code, tt.body)
			}
			if tt.ctype != "" && rec.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", rec.Header().Get("Content-Type"), tt.ctype)
			}
		})
	}
}
