package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/health"
)

func ok(context.Context) error { return nil }

func failing(msg string) func(context.Context) error {
	return func(context.Context) error { return errors.New(msg) }
}

// blocking waits for ctx, like a probe stuck on a dead server.
func blocking(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// deaf ignores ctx until release is closed, like a misbehaving client library.
func deaf(release <-chan struct{}) func(context.Context) error {
	return func(context.Context) error {
		<-release
		return nil
	}
}

func TestCheckerRun(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name   string
		checks []health.Check
		status string
		want   map[string]string
	}{
		{"no checks", nil, "ok", map[string]string{}},
		{"all ok", []health.Check{{"dynamodb", ok}, {"kafka", ok}}, "ok",
			map[string]string{"dynamodb": "ok", "kafka": "ok"}},
		{"one failing", []health.Check{{"dynamodb", ok}, {"kafka", failing("dial kafka:9092: refused")}},
			"unavailable", map[string]string{"dynamodb": "ok", "kafka": "dial kafka:9092: refused"}},
		{"slow past timeout", []health.Check{{"postgres", blocking}, {"kafka", ok}}, "unavailable",
			map[string]string{"postgres": "timed out after 50ms", "kafka": "ok"}},
		{"ignores ctx", []health.Check{{"search", deaf(release)}}, "unavailable",
			map[string]string{"search": "timed out after 50ms"}},
		{"nil probe", []health.Check{{Name: "s3"}}, "unavailable", map[string]string{"s3": "no probe configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			got := health.NewChecker(50*time.Millisecond, tt.checks...).Run(context.Background())
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("Run took %s, want it bounded by the timeout", elapsed)
			}
			if got.Status != tt.status {
				t.Errorf("Status = %q, want %q", got.Status, tt.status)
			}
			if len(got.Checks) != len(tt.want) {
				t.Errorf("Checks = %v, want %v", got.Checks, tt.want)
			}
			for k, v := range tt.want {
				if got.Checks[k] != v {
					t.Errorf("Checks[%q] = %q, want %q", k, got.Checks[k], v)
				}
			}
		})
	}
}

func TestCheckerTruncatesErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 150) // 300 bytes
	got := health.NewChecker(0, health.Check{Name: "x", Probe: failing(long)}).Run(context.Background())
	text := got.Checks["x"]
	if len(text) > 200 || !strings.HasPrefix(long, text) || len(text) < 198 {
		t.Errorf("truncated text has %d bytes, want a clean prefix of at most 200", len(text))
	}
}

func TestReadyHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		checks     []health.Check
		code       int
		retryAfter string
		status     string
	}{
		{"all ok", []health.Check{{"a", ok}, {"b", ok}}, http.StatusOK, "", "ok"},
		{"one failing", []health.Check{{"a", ok}, {"b", failing("boom")}}, http.StatusServiceUnavailable, "5", "unavailable"},
		{"one slow", []health.Check{{"a", blocking}}, http.StatusServiceUnavailable, "5", "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := health.NewChecker(50*time.Millisecond, tt.checks...).ReadyHandler()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.code {
				t.Errorf("code = %d, want %d", rec.Code, tt.code)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			var report health.Report
			if err := json.Unmarshal(rec.Body.Bytes(), &report); err != nil {
				t.Fatalf("decode %q: %v", rec.Body.String(), err)
			}
			if report.Status != tt.status || len(report.Checks) != len(tt.checks) {
				t.Errorf("report = %+v, want status %q with %d checks", report, tt.status, len(tt.checks))
			}
		})
	}
}

func TestLiveHandler(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	health.LiveHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("code = %d, want 200", rec.Code)
	}
	if got := strings.TrimSpace(rec.Body.String()); got != `{"status":"ok"}` {
		t.Errorf("body = %s, want {\"status\":\"ok\"}", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
}
