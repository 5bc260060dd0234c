package main

import (
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
)

func TestService(t *testing.T) {
	t.Parallel()
	cfg := newHarness(t, 1).cfg
	broken := cfg
	broken.Search.URL = "http://127.0.0.1:1"
	servicetest.Run(t, servicetest.Case{
		Name:    name,
		New:     servicetest.With(NewMain, cfg),
		Checks:  []string{service.CheckDynamoDB, service.CheckKafka, service.CheckPostgres, service.CheckSearch},
		Broken:  servicetest.With(NewMain, broken),
		Failing: service.CheckSearch,
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"KAFKA_BROKERS": "127.0.0.1:19092", "POSTGRES_URL": "postgres://u:p@127.0.0.1:15432/db",
		"OPENSEARCH_URL": "http://127.0.0.1:19200"}
	cfg, err := config.LoadFrom[Config]("", env)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.HTTP.Addr != defaultAddr {
		t.Errorf("HTTP.Addr = %q, want %q", cfg.HTTP.Addr, defaultAddr)
	}
	delete(env, "KAFKA_BROKERS")
	_, err = config.LoadFrom[Config]("", env)
	if err == nil || !strings.Contains(err.Error(), "KAFKA_BROKERS") {
		t.Errorf("LoadFrom without KAFKA_BROKERS = %v, want an error naming it", err)
	}
}
