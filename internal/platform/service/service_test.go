package service_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
)

// settings stands for a service's configuration, with a secret in it.
type settings struct {
	Postgres config.Postgres
	Topic    string
}

const password = "pw-service-test-8d1f"

func newService(t *testing.T, logs *servicetest.Logs) *service.Service {
	t.Helper()
	svc, err := service.New(service.Config{
		Name:      "svc",
		HTTP:      servicetest.HTTP(),
		Log:       servicetest.Log(),
		LogOutput: logs,
		Settings: settings{
			Postgres: config.Postgres{URL: config.Secret("postgres://u:" + password + "@h/db")},
			Topic:    "chat.room.events",
		},
		ReadyTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return svc
}

// events records what happened, in order, across goroutines.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

func TestRunServesAndShutsDownInOrder(t *testing.T) {
	t.Parallel()
	logs := servicetest.NewLogs(t)
	svc := newService(t, logs)
	var ev events
	svc.AddCheck("up", func(context.Context) error { return nil })
	svc.AddCheck("down", func(context.Context) error { return errors.New("dial 127.0.0.1:1: refused") })
	svc.OnClose("first", func() error { ev.add("close first"); return nil })
	svc.OnClose("second", func() error { ev.add("close second"); return nil })
	svc.Go("consumer", func(ctx context.Context) error {
		<-ctx.Done()
		ev.add("worker stopped")
		return ctx.Err()
	})

	run := servicetest.Start(t, svc)
	if resp := servicetest.Get(t, run.URL+"/healthz"); resp.Code != http.StatusOK {
		t.Errorf("/healthz = %d", resp.Code)
	}
	resp, report := servicetest.Readiness(t, run.URL)
	if resp.Code != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("/readyz = %d Retry-After %q, want 503 with Retry-After", resp.Code, resp.Header.Get("Retry-After"))
	}
	if report.Checks["up"] != "ok" || !strings.Contains(report.Checks["down"], "refused") {
		t.Errorf("/readyz checks = %v", report.Checks)
	}
	servicetest.ExpectProblem(t, servicetest.Get(t, run.URL+"/v1/anything"), http.StatusNotFound)
	metrics := servicetest.Get(t, run.URL+"/metrics").Body
	for _, line := range []string{
		`app_build_info{go_version=`,
		`http_requests_total{method="GET",route="/readyz",status="503"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
	} {
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if len(ev.get()) != 0 {
		t.Errorf("events before shutdown: %v", ev.get())
	}

	run.Stop(t)
	want := []string{"worker stopped", "close second", "close first"}
	if got := ev.get(); !slices.Equal(got, want) {
		t.Errorf("shutdown order = %v, want %v", got, want)
	}
	if err := svc.Close(); err != nil {
		t.Errorf("Close after Run = %v, want nil", err)
	}
	if got := ev.get(); len(got) != len(want) {
		t.Errorf("Close after Run closed again: %v", got)
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(run.URL, "http://")); err == nil {
		t.Error("server still accepts connections after Run returned")
	}
}

func TestRunLogsConfigWithoutSecrets(t *testing.T) {
	t.Parallel()
	logs := servicetest.NewLogs(t)
	run := servicetest.Start(t, newService(t, logs))
	run.Stop(t)
	out := logs.String()
	var startup string
	for line := range strings.Lines(out) {
		if strings.Contains(line, `"msg":"service starting"`) {
			startup = line
		}
	}
	for _, want := range []string{`"service":"svc"`, `"addr":"127.0.0.1:0"`, `"URL":"***"`, `"Topic":"chat.room.events"`} {
		if !strings.Contains(startup, want) {
			t.Errorf("startup line lacks %s: %s", want, startup)
		}
	}
	if strings.Contains(out, password) {
		t.Error("logs show the password")
	}
}

func TestRunWorkerFailureStopsService(t *testing.T) {
	t.Parallel()
	svc := newService(t, servicetest.NewLogs(t))
	var ev events
	svc.OnClose("client", func() error { ev.add("closed"); return nil })
	svc.Go("reader", func(ctx context.Context) error {
		select {
		case <-svc.Listening():
			return errors.New("shard trimmed")
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	done := make(chan error, 1)
	go func() { done <- svc.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "worker reader: shard trimmed") {
			t.Errorf("Run = %v, want the worker's error", err)
		}
	case <-time.After(servicetest.StopTimeout):
		t.Fatal("Run did not return after a worker failed")
	}
	if got := ev.get(); !slices.Equal(got, []string{"closed"}) {
		t.Errorf("closers ran %v, want [closed]", got)
	}
}

func TestRunListenFailureClosesClients(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	cfg := servicetest.HTTP()
	cfg.Addr = ln.Addr().String()
	svc, err := service.New(service.Config{Name: "svc", HTTP: cfg, Log: servicetest.Log(), LogOutput: servicetest.NewLogs(t)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var ev events
	svc.OnClose("client", func() error { ev.add("closed"); return errors.New("flush failed") })
	err = svc.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "close client: flush failed") {
		t.Errorf("Run = %v, want the listen error and the close error", err)
	}
	if got := ev.get(); !slices.Equal(got, []string{"closed"}) {
		t.Errorf("closers ran %v, want [closed]", got)
	}
	if err := svc.Run(context.Background()); err == nil {
		t.Error("second Run = nil, want an error")
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	svc := newService(t, servicetest.NewLogs(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := svc.Run(ctx); err != nil {
		t.Errorf("Run with a cancelled context = %v, want nil", err)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := service.New(service.Config{HTTP: config.HTTP{Addr: "nope"}, Log: config.Log{Format: "xml"}})
	for _, want := range []string{"service name", "HTTP_ADDR", "HTTP_SHUTDOWN_TIMEOUT", "LOG_FORMAT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New = %v, want an error naming %s", err, want)
		}
	}
}
