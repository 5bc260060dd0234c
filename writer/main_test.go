package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
)

func TestService(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	broken := cfg
	broken.AWS.EndpointURL, broken.AWS.EndpointDynamoDB, broken.AWS.EndpointS3 = "http://127.0.0.1:1", "", ""
	servicetest.Run(t, servicetest.Case{
		Name:    name,
		New:     servicetest.With(NewMain, cfg),
		Checks:  []string{service.CheckDynamoDB, CheckJournal},
		Broken:  servicetest.With(NewMain, broken),
		Failing: service.CheckDynamoDB,
		// The journal lives on the same server.
		FailingToo: []string{CheckJournal},
		Hidden:     []string{testSecret},
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	key := map[string]string{"AUTH_HS256_SECRET": testSecret}
	cfg, err := config.LoadFrom[Config]("", key)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.HTTP.Addr != defaultAddr {
		t.Errorf("HTTP.Addr = %q, want %q", cfg.HTTP.Addr, defaultAddr)
	}
	if cfg.RateLimit.RPS != 50 || cfg.RateLimit.Burst != 100 {
		t.Errorf("rate limit defaults = %+v, want 50/s burst 100 (DESIGN.md)", cfg.RateLimit)
	}
	if cfg.Journal.SnapshotEvery != 100 || cfg.Journal.TablePrefix != "chat" {
		t.Errorf("journal defaults = %+v", cfg.Journal)
	}
	cfg, err = config.LoadFrom[Config]("", map[string]string{"AUTH_HS256_SECRET": testSecret, "HTTP_ADDR": "0.0.0.0:9000"})
	if err != nil || cfg.HTTP.Addr != "0.0.0.0:9000" {
		t.Errorf("HTTP_ADDR override = %q, %v", cfg.HTTP.Addr, err)
	}

	bad := []struct {
		env  map[string]string
		want string
	}{
		// Outside the local `make run`, which sets a development secret, the writer refuses to start keyless.
		{map[string]string{}, "AUTH_HS256_SECRET"},
		{map[string]string{"AUTH_HS256_SECRET": testSecret, "AWS_ENDPOINT_URL": "localhost:4566"}, "AWS_ENDPOINT_URL"},
		{map[string]string{"AUTH_HS256_SECRET": testSecret, "SNAPSHOT_EVERY": "0"}, "SNAPSHOT_EVERY"},
		{map[string]string{"AUTH_HS256_SECRET": testSecret, "RATE_LIMIT_RPS": "-1"}, "RATE_LIMIT_RPS"},
	}
	for _, tc := range bad {
		if _, err := config.LoadFrom[Config]("", tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadFrom(%v) error = %v, want one naming %s", tc.env, err, tc.want)
		}
	}
}

// A writer that creates its own tables is not ready while any of them is missing: the journal answering is not
// enough, since a command also reads the idempotency and entity tables created after it.
func TestNotReadyUntilEveryTableExists(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Journal.CreateTables = true
	cfg.AWS.EndpointURL, cfg.AWS.EndpointDynamoDB, cfg.AWS.EndpointS3 = "http://127.0.0.1:1", "", "" // nothing can be created
	r := startMain(t, cfg)
	resp, report := servicetest.Readiness(t, r.URL)
	if status, ok := report.Checks[CheckTables]; resp.Code != http.StatusServiceUnavailable || !ok || status == "ok" {
		t.Fatalf("readiness with no tables = %d %v, want 503 with %q failing", resp.Code, report.Checks, CheckTables)
	}
	r.Stop(t)

	// On the real server, a fresh prefix: ready means every table answers.
	cfg = testConfig(t)
	cfg.Journal.CreateTables = true
	cfg.Journal.TablePrefix = testkit.UniqueName(t, "wfresh")
	tables := eventstore.TablesWithPrefix(cfg.Journal.TablePrefix)
	clients := testkit.AWS(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		testkit.DeleteTables(ctx, t, clients.DynamoDB, tables.Names()...)
	})
	r = startMain(t, cfg)
	testkit.Eventually(t, 30*time.Second, "the writer is ready", func() bool {
		resp, _ := servicetest.Readiness(t, r.URL)
		return resp.Code == http.StatusOK
	})
	for _, name := range tables.Names() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := clients.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		cancel()
		if err != nil {
			t.Errorf("ready, but table %s: %v", name, err)
		}
	}
}

func startMain(t *testing.T, cfg Config) *servicetest.Running {
	t.Helper()
	m, err := NewMain(context.Background(), cfg, servicetest.NewLogs(t))
	if err != nil {
		t.Fatalf("NewMain: %v", err)
	}
	return servicetest.Start(t, m)
}
