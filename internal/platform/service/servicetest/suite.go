package servicetest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/health"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// Case describes one service to Run.
type Case struct {
	// Name is the service's name, as app_build_info labels it.
	Name string
	// New builds the service against the local stack, logging to logs.
	New func(ctx context.Context, logs io.Writer) (Runner, error)
	// Checks are the readiness checks the service reports, every one "ok" against the stack.
	Checks []string
	// Broken builds the service with the dependency checked as Failing pointed at a closed port.
	Broken  func(ctx context.Context, logs io.Writer) (Runner, error)
	Failing string
	// FailingToo are checks of other resources on Failing's server, which must fail with it.
	FailingToo []string
	// Hidden are strings (passwords in Broken's configuration) that must never show in logs or answers.
	Hidden []string
}

// Run checks the operational contract of c's service against the local stack, in parallel subtests.
func Run(t *testing.T, c Case) {
	t.Run("operational", func(t *testing.T) {
		t.Parallel()
		operational(t, c)
	})
	t.Run("dependency down", func(t *testing.T) {
		t.Parallel()
		dependencyDown(t, c)
	})
}

func build(t *testing.T, newRunner func(context.Context, io.Writer) (Runner, error), logs io.Writer) Runner {
	t.Helper()
	r, err := newRunner(t.Context(), logs)
	if err != nil {
		t.Fatalf("NewMain: %v", err)
	}
	return r
}

func operational(t *testing.T, c Case) {
	logs := NewLogs(t)
	run := Start(t, build(t, c.New, logs))

	if resp := Get(t, run.URL+"/healthz"); resp.Code != http.StatusOK {
		t.Errorf("/healthz = %d %s, want 200", resp.Code, resp.Body)
	}
	// Readiness is waited for: on a loaded machine a check may exceed its timeout once (a slow moto).
	var resp Response
	var report health.Report
	testkit.Eventually(t, 30*time.Second, "/readyz answers 200 ok", func() bool {
		resp, report = Readiness(t, run.URL)
		return resp.Code == http.StatusOK && report.Status == "ok"
	})
	want := slices.Sorted(slices.Values(c.Checks))
	if got := sortedKeys(report.Checks); !slices.Equal(got, want) {
		t.Errorf("/readyz checks = %v, want %v", got, want)
	}
	for name, status := range report.Checks {
		if status != "ok" {
			t.Errorf("/readyz check %s = %q, want ok", name, status)
		}
	}

	ExpectProblem(t, Get(t, run.URL+"/no/such/route"), http.StatusNotFound)

	metrics := Get(t, run.URL+"/metrics")
	if metrics.Code != http.StatusOK {
		t.Fatalf("/metrics = %d", metrics.Code)
	}
	for _, line := range []string{
		fmt.Sprintf(`service=%q} 1`, c.Name),
		`http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`http_requests_total{method="GET",route="/readyz",status="200"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
	} {
		if !strings.Contains(metrics.Body, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if !strings.Contains(metrics.Body, "app_build_info{") {
		t.Error("/metrics lacks app_build_info")
	}

	run.Stop(t)
	out := logs.String()
	for _, msg := range []string{`"msg":"service starting"`, `"msg":"service stopped"`} {
		if !strings.Contains(out, msg) {
			t.Errorf("logs lack %s", msg)
		}
	}
}

func dependencyDown(t *testing.T, c Case) {
	logs := NewLogs(t)
	run := Start(t, build(t, c.Broken, logs))

	resp, report := Readiness(t, run.URL)
	t.Logf("/readyz with %s down: %d %s", c.Failing, resp.Code, strings.TrimSpace(resp.Body))
	if resp.Code != http.StatusServiceUnavailable || report.Status != "unavailable" {
		t.Errorf("/readyz = %d %s, want 503 unavailable", resp.Code, resp.Body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("/readyz 503 has no Retry-After")
	}
	for _, name := range c.Checks {
		got, ok := report.Checks[name]
		switch {
		case !ok:
			t.Errorf("/readyz does not name check %s: %s", name, resp.Body)
		case (name == c.Failing || slices.Contains(c.FailingToo, name)) && got == "ok":
			t.Errorf("/readyz check %s = ok with its server unreachable", name)
		case name != c.Failing && !slices.Contains(c.FailingToo, name) && got != "ok":
			t.Errorf("/readyz check %s = %q, want ok", name, got)
		}
	}
	if leak := containsAny(resp.Body, c.Hidden); leak != "" {
		t.Errorf("/readyz shows the secret %q: %s", leak, resp.Body)
	}
	// Still alive while not ready: liveness must not depend on the dependencies.
	if live := Get(t, run.URL+"/healthz"); live.Code != http.StatusOK {
		t.Errorf("/healthz = %d while a dependency is down, want 200", live.Code)
	}

	run.Stop(t)
	out := logs.String()
	if leak := containsAny(out, c.Hidden); leak != "" {
		t.Errorf("logs show the secret %q", leak)
	}
	if len(c.Hidden) > 0 && !strings.Contains(out, "***") {
		t.Error("startup log shows no redacted secret")
	}
}
