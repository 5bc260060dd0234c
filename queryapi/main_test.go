package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// testSecret signs the tests' tokens.
const testSecret = "queryapi-test-secret-0123456789"

func TestService(t *testing.T) {
	t.Parallel()
	st := testkit.MustStack(t)
	cfg := Config{HTTP: servicetest.HTTP(), Log: servicetest.Log(), AWS: st.AWS, Postgres: st.Postgres,
		Search: st.Search, Auth: auth.Config{HS256Secret: testSecret},
		RateLimit: ratelimit.Config{RPS: 1000, Burst: 1000, MaxKeys: 1000},
		Query: QueryConfig{ViewsName: "views", SearchName: "search", ConsistencyTimeout: time.Second,
			SearchPollInterval: 50 * time.Millisecond}}
	// A password found nowhere else, so any trace of it in the logs or answers is a leak.
	const password = "pw-queryapi-5f0c2e9a"
	broken := cfg
	broken.Postgres.URL = config.Secret("postgres://chat:" + password + "@127.0.0.1:1/chat?sslmode=disable")
	servicetest.Run(t, servicetest.Case{
		Name:    name,
		New:     servicetest.With(NewMain, cfg),
		Checks:  []string{service.CheckPostgres, service.CheckSearch},
		Broken:  servicetest.With(NewMain, broken),
		Failing: service.CheckPostgres,
		Hidden:  []string{password, testSecret},
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"POSTGRES_URL": "postgres://u:p@127.0.0.1:15432/db",
		"OPENSEARCH_URL": "http://127.0.0.1:19200", "AUTH_HS256_SECRET": testSecret}
	cfg, err := config.LoadFrom[Config]("", base)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.HTTP.Addr != defaultAddr {
		t.Errorf("HTTP.Addr = %q, want %q", cfg.HTTP.Addr, defaultAddr)
	}
	want := QueryConfig{ViewsName: "views", SearchName: "search", ConsistencyTimeout: 2 * time.Second,
		SearchPollInterval: 50 * time.Millisecond}
	if cfg.Query != want {
		t.Errorf("query defaults = %+v, want %+v", cfg.Query, want)
	}
	if cfg.RateLimit.RPS != 50 || cfg.RateLimit.Burst != 100 {
		t.Errorf("rate limit defaults = %+v, want 50/s burst 100 (DESIGN.md)", cfg.RateLimit)
	}
	with := func(k, v string) map[string]string {
		env := map[string]string{k: v}
		for bk, bv := range base {
			if bk != k {
				env[bk] = bv
			}
		}
		return env
	}
	bad := []struct {
		env  map[string]string
		want []string
	}{
		{nil, []string{"POSTGRES_URL", "OPENSEARCH_URL", "AUTH_HS256_SECRET"}},
		{with("QUERYAPI_CONSISTENCY_TIMEOUT", "0s"), []string{"QUERYAPI_CONSISTENCY_TIMEOUT"}},
		{with("QUERYAPI_CONSISTENCY_TIMEOUT", "2h"), []string{"QUERYAPI_CONSISTENCY_TIMEOUT"}},
		{with("QUERYAPI_CURSOR_SECRET", "short"), []string{"QUERYAPI_CURSOR_SECRET"}},
		{with("RATE_LIMIT_RPS", "-1"), []string{"RATE_LIMIT_RPS"}},
		{with("CONSISTENCY_TOKEN_SECRET", "short"), []string{"CONSISTENCY_TOKEN_SECRET"}},
		// JWKS mode has no shared secret to derive the token key from.
		{map[string]string{"POSTGRES_URL": base["POSTGRES_URL"], "OPENSEARCH_URL": base["OPENSEARCH_URL"],
			"AUTH_JWKS_URL": "https://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/jwks.json"},
			[]string{"CONSISTENCY_TOKEN_SECRET"}},
	}
	for _, tc := range bad {
		_, err := config.LoadFrom[Config]("", tc.env)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("LoadFrom(%v) = %v, want an error naming %s", tc.env, err, w)
			}
		}
	}
}
