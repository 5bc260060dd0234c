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
	cfg := Config{HTTP: servicetest.HTTP(), Log: servicetest.Log(), AWS: st.AWS, Kafka: st.Kafka}
	broken := cfg
	broken.Kafka.Brokers = []string{"127.0.0.1:1"}
	servicetest.Run(t, servicetest.Case{
		Name:    name,
		New:     servicetest.With(NewMain, cfg),
		Checks:  []string{service.CheckDynamoDB, service.CheckKafka},
		Broken:  servicetest.With(NewMain, broken),
		Failing: service.CheckKafka,
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"KAFKA_BROKERS": "127.0.0.1:19092"}
	cfg, err := config.LoadFrom[Config]("", env)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.HTTP.Addr != defaultAddr {
		t.Errorf("HTTP.Addr = %q, want %q", cfg.HTTP.Addr, defaultAddr)
	}
	_, err = config.LoadFrom[Config]("", nil)
	if err == nil || !strings.Contains(err.Error(), "KAFKA_BROKERS") {
		t.Errorf("LoadFrom without KAFKA_BROKERS = %v, want an error naming it", err)
	}
}
