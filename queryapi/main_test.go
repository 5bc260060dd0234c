package main

import (
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

func TestService(t *testing.T) {
	t.Parallel()
	st := testkit.MustStack(t)
	cfg := Config{HTTP: servicetest.HTTP(), Log: servicetest.Log(), AWS: st.AWS, Postgres: st.Postgres,
		Search: st.Search}
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
		Hidden:  []string{password},
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"POSTGRES_URL": "postgres://u:p@127.0.0.1:15432/db", "OPENSEARCH_URL": "http://127.0.0.1:19200"}
	cfg, err := config.LoadFrom[Config]("", env)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.HTTP.Addr != defaultAddr {
		t.Errorf("HTTP.Addr = %q, want %q", cfg.HTTP.Addr, defaultAddr)
	}
	_, err = config.LoadFrom[Config]("", nil)
	for _, want := range []string{"POSTGRES_URL", "OPENSEARCH_URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadFrom with nothing set = %v, want an error naming %s", err, want)
		}
	}
}
