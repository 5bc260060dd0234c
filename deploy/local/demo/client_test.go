package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/devtoken"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
)

const testSecret = "demo-test-secret-0123456789"

// request is what the fake writer saw of one request.
type request struct {
	method, path, sub, key, contentType, body string
}

// scripted is a writer that answers the requests it gets with the next of its answers, the last one for good,
// and records them with the caller's verified account id.
type scripted struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	answers []answer
	seen    []request
}

type answer struct {
	status     int
	retryAfter string
	body       string
}

func newScripted(t *testing.T, answers ...answer) *scripted {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), auth.Config{HS256Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{t: t, answers: answers}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, err := v.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, request{r.Method, r.URL.Path, claims.Subject, r.Header.Get("Idempotency-Key"),
			r.Header.Get("Content-Type"), string(body)})
		a := s.answers[min(len(s.seen), len(s.answers))-1]
		s.mu.Unlock()
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		if a.status/100 == 2 {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "application/problem+json")
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.seen...)
}

// newClient returns a client of url that records the waits it is asked for instead of waiting.
func newClient(url string) (*Client, *[]time.Duration) {
	var waits []time.Duration
	return &Client{
		BaseURL: url,
		Token:   func(sub string) (string, error) { return devtoken.Mint(testSecret, sub, time.Hour, "", "") },
		Wait: func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			return nil
		},
	}, &waits
}

const (
	created   = `{"id":"room-01JD5Z7Q0000000000000000AB","version":3,"consistency_token":"c1.abc","message_id":"msg-01JD5Z7Q0000000000000000CD"}`
	throttled = `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"too many requests"}`
	invalid   = `{"type":"about:blank","title":"Bad Request","status":400,"detail":"the request has invalid fields","errors":[{"field":"text","reason":"must not be empty"}]}`
)

func TestClientRetries429HonoringRetryAfter(t *testing.T) {
	t.Parallel()
	w := newScripted(t, answer{429, "2", throttled}, answer{429, "1", throttled}, answer{201, "", created})
	c, waits := newClient(w.srv.URL)
	res, err := c.Do(context.Background(), "yuki", http.MethodPost, "/v1/rooms/r/messages", map[string]string{"text": "会議"}, "k-1")
	if err != nil {
		t.Fatal(err)
	}
	want := Result{ID: "room-01JD5Z7Q0000000000000000AB", Version: 3, ConsistencyToken: "c1.abc", MessageID: "msg-01JD5Z7Q0000000000000000CD"}
	if res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	if got := *waits; len(got) != 2 || got[0] != 2*time.Second || got[1] != time.Second {
		t.Errorf("waited %v, want [2s 1s] as Retry-After said", got)
	}
	seen := w.requests()
	if len(seen) != 3 || c.Requests() != 3 || c.Retries() != 2 {
		t.Fatalf("%d requests seen, client counted %d requests and %d retries; want 3, 3, 2", len(seen), c.Requests(), c.Retries())
	}
	for _, r := range seen {
		if r.sub != "yuki" || r.key != "k-1" || r.contentType != "application/json" || r.body != `{"text":"会議"}` {
			t.Errorf("request %+v: want every try as yuki, with the same key and JSON body", r)
		}
	}
}

func TestClientBacksOffOn503WithoutRetryAfterAndGivesUp(t *testing.T) {
	t.Parallel()
	w := newScripted(t, answer{503, "", `{"status":503}`})
	c, waits := newClient(w.srv.URL)
	c.MaxAttempts = 5
	_, err := c.Do(context.Background(), "bob", http.MethodDelete, "/v1/rooms/r/messages/m", nil, "")
	if !IsStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("err = %v, want the last 503 once the attempts are used up", err)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	if got := *waits; !slices.Equal(got, want) {
		t.Errorf("waited %v, want %v", got, want)
	}
	if r := w.requests()[0]; r.method != http.MethodDelete || r.contentType != "" || r.body != "" {
		t.Errorf("request %+v: want a DELETE without a body", r)
	}
}

func TestClientReturnsOtherAnswersAsErrorsWithTheProblem(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 403, 404, 409, 500} {
		w := newScripted(t, answer{status, "1", invalid}, answer{201, "", created})
		c, waits := newClient(w.srv.URL)
		_, err := c.Do(context.Background(), "alice", http.MethodPost, "/v1/rooms/r/messages", map[string]string{"text": ""}, "")
		var se *StatusError
		if !errors.As(err, &se) || se.Status != status || !IsStatus(err, status) {
			t.Fatalf("status %d: err = %v, want a *StatusError", status, err)
		}
		for _, part := range []string{"POST /v1/rooms/r/messages", "must not be empty", "invalid fields"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("status %d: error %q does not say %q", status, err, part)
			}
		}
		if n := len(w.requests()); n != 1 || len(*waits) != 0 {
			t.Errorf("status %d: %d requests, %d waits; want one try, no retry", status, n, len(*waits))
		}
	}
}

func TestClientMintsEachTokenOnce(t *testing.T) {
	t.Parallel()
	w := newScripted(t, answer{200, "", created})
	c, _ := newClient(w.srv.URL)
	minted := map[string]int{}
	mint := c.Token
	c.Token = func(sub string) (string, error) { minted[sub]++; return mint(sub) }
	for _, sub := range []string{"alice", "bob", "alice", "alice"} {
		if _, err := c.Do(context.Background(), sub, http.MethodPost, "/v1/accounts/me/rename", map[string]string{"name": "x"}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if minted["alice"] != 1 || minted["bob"] != 1 {
		t.Errorf("minted %v, want one token per account", minted)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"0", 0},
		{"-1", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
