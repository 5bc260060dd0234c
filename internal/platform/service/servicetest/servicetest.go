// Package servicetest runs a service's Main the way its process would and checks the operational contract every
// service shares: /healthz, /readyz with named dependency checks, /metrics, problem answers for unknown routes,
// a prompt and clean shutdown, and no secret in logs or answers. Each service's tests hand it a Case.
package servicetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/health"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

const (
	// startTimeout bounds the wait for a service to listen.
	startTimeout = 30 * time.Second
	// StopTimeout is how soon Run must return once its context is cancelled.
	StopTimeout = 10 * time.Second
)

// Runner is the part of a service's Main that tests drive.
type Runner interface {
	Run(ctx context.Context) error
	Close() error
	Addr() string
	Listening() <-chan struct{}
}

// HTTP returns the HTTP block of a service under test: an ephemeral port on loopback and short timeouts.
func HTTP() config.HTTP {
	return config.HTTP{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, ReadHeaderTimeout: 5 * time.Second}
}

// Log returns the log block of a service under test: JSON at debug level, so the logs checked for secrets are
// as complete as they get.
func Log() config.Log { return config.Log{Level: slog.LevelDebug, Format: "json"} }

// Logs collects a service's log output; it is safe for concurrent writes and prints itself when the test
// fails.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewLogs returns an empty Logs that the test prints when it fails.
func NewLogs(tb testing.TB) *Logs {
	tb.Helper()
	l := &Logs{}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("service logs:\n%s", l.String())
		}
	})
	return l
}

// Write appends p; it never fails.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Running is a service started by Start.
type Running struct {
	// URL is the service's base URL, e.g. http://127.0.0.1:41234.
	URL    string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Start runs r in the background and returns once it listens; it fails the test when Run returns first or the
// service does not listen in time. The service is stopped when the test ends, if Stop was not called.
func Start(tb testing.TB, r Runner) *Running {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	run := &Running{cancel: cancel, done: make(chan error, 1)}
	go func() { run.done <- r.Run(ctx) }()
	tb.Cleanup(func() { _ = run.wait() })
	select {
	case <-r.Listening():
	case err := <-run.done:
		run.once.Do(func() { run.err = err })
		cancel()
		tb.Fatalf("Run returned before listening: %v", err)
	case <-time.After(startTimeout):
		cancel()
		tb.Fatalf("service did not listen within %s", startTimeout)
	}
	run.URL = "http://" + r.Addr()
	return run
}

// Stop cancels the service's context and fails the test unless Run returns nil within StopTimeout.
func (r *Running) Stop(tb testing.TB) {
	tb.Helper()
	start := time.Now()
	if err := r.wait(); err != nil {
		tb.Errorf("Run after cancel = %v, want nil", err)
	}
	if took := time.Since(start); took > StopTimeout {
		tb.Errorf("Run took %s to return after cancel, want under %s", took, StopTimeout)
	}
}

// wait cancels the service and waits up to twice StopTimeout for Run's result.
func (r *Running) wait() error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(2 * StopTimeout):
			r.err = context.DeadlineExceeded
		}
	})
	return r.err
}

// Response is an answer read in full.
type Response struct {
	Code   int
	Header http.Header
	Body   string
}

// Get sends a GET to url and returns the answer; it fails the test on a transport error.
func Get(tb testing.TB, url string) Response {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		tb.Fatalf("new request %s: %v", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read %s: %v", url, err)
	}
	return Response{Code: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// Readiness fetches /readyz and returns the answer with its decoded report.
func Readiness(tb testing.TB, base string) (Response, health.Report) {
	tb.Helper()
	resp := Get(tb, base+"/readyz")
	var report health.Report
	if err := json.Unmarshal([]byte(resp.Body), &report); err != nil {
		tb.Fatalf("decode /readyz %q: %v", resp.Body, err)
	}
	return resp, report
}

// sortedKeys returns the check names of a report, sorted.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ExpectProblem fails the test unless resp is a problem+json answer with status code.
func ExpectProblem(tb testing.TB, resp Response, code int) {
	tb.Helper()
	if resp.Code != code {
		tb.Errorf("code = %d, want %d (body %s)", resp.Code, code, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != problem.ContentType {
		tb.Errorf("Content-Type = %q, want %q", ct, problem.ContentType)
	}
	var p problem.Problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		tb.Fatalf("decode problem %q: %v", resp.Body, err)
	}
	if p.Status != code || p.Type == "" || p.Title == "" {
		tb.Errorf("problem = %+v, want status %d with type and title", p, code)
	}
}

// containsAny returns the first of needles found in haystack, or "".
func containsAny(haystack string, needles []string) string {
	for _, n := range needles {
		if n != "" && strings.Contains(haystack, n) {
			return n
		}
	}
	return ""
}

// With adapts a service's NewMain, bound to cfg, to the constructor a Case takes.
func With[C any, M Runner](newMain func(context.Context, C, io.Writer) (M, error), cfg C) func(context.Context, io.Writer) (Runner, error) {
	return func(ctx context.Context, logs io.Writer) (Runner, error) { return newMain(ctx, cfg, logs) }
}
