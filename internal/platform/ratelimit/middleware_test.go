package ratelimit_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
)

// limited is an engine limiting GET /x by the X-Account header; it counts the requests its handler served.
type limited struct {
	engine *gin.Engine
	served atomic.Int64
}

func newLimited(tb testing.TB, l *ratelimit.Limiter) *limited {
	tb.Helper()
	gin.SetMode(gin.ReleaseMode)
	s := &limited{engine: gin.New()}
	key := func(c *gin.Context) string { return c.GetHeader("X-Account") }
	s.engine.GET("/x", ratelimit.Middleware(l, key), func(c *gin.Context) {
		s.served.Add(1)
		c.Status(http.StatusNoContent)
	})
	return s
}

func (s *limited) get(account string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	if account != "" {
		req.Header.Set("X-Account", account)
	}
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	return rec
}

func TestMiddlewareAnswers429WithRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rps        float64
		wait       time.Duration
		retryAfter string
	}{
		{"under a second rounds up to 1", 4, 250 * time.Millisecond, "1"},
		{"exactly one second", 1, time.Second, "1"},
		{"fractional seconds round up", 0.4, 2500 * time.Millisecond, "3"},
		{"ten seconds", 0.1, 10 * time.Second, "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			s := newLimited(t, newLimiter(t, ratelimit.Config{RPS: tt.rps, Burst: 2, MaxKeys: 10}, c))
			for i := range 2 {
				if rec := s.get("alice"); rec.Code != http.StatusNoContent {
					t.Fatalf("request %d: status %d, want 204", i+1, rec.Code)
				}
			}
			rec := s.get("alice")
			if rec.Code != http.StatusTooManyRequests {
				t.Fatalf("over the burst: status %d, want 429", rec.Code)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			var p struct {
				Status int    `json:"status"`
				Title  string `json:"title"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != 429 || p.Title == "" || p.Detail == "" {
				t.Errorf("body %s is not a 429 problem: %v", rec.Body, err)
			}
			if n := s.served.Load(); n != 2 {
				t.Errorf("handler served %d requests, want 2 (the limited one aborted)", n)
			}
			if rec := s.get("bob"); rec.Code != http.StatusNoContent {
				t.Errorf("bob: status %d, want 204 (keys are independent)", rec.Code)
			}
			c.Advance(tt.wait)
			if rec := s.get("alice"); rec.Code != http.StatusNoContent {
				t.Errorf("after the wait: status %d, want 204", rec.Code)
			}
		})
	}
}

func TestMiddlewareDoesNotLimitEmptyKeys(t *testing.T) {
	t.Parallel()
	s := newLimited(t, newLimiter(t, ratelimit.Config{RPS: 1, Burst: 1, MaxKeys: 1}, newClock()))
	for i := range 10 {
		if rec := s.get(""); rec.Code != http.StatusNoContent {
			t.Fatalf("request %d without a key: status %d, want 204", i+1, rec.Code)
		}
	}
	if rec := s.get("alice"); rec.Code != http.StatusNoContent {
		t.Fatalf("alice: status %d, want 204", rec.Code)
	}
	if rec := s.get("alice"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("alice again: status %d, want 429", rec.Code)
	}
}

func TestMiddlewareWithoutLimiterPassesThrough(t *testing.T) {
	t.Parallel()
	s := newLimited(t, nil)
	for i := range 5 {
		if rec := s.get("alice"); rec.Code != http.StatusNoContent {
			t.Fatalf("request %d: status %d, want 204", i+1, rec.Code)
		}
	}
}
