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
	cfg := Config{HTTP: servicetest.HTTP(), Log: servicetest.Log(), AWS: st.AWS}
	broken := cfg
	broken.AWS.EndpointURL = "http://127.0.0.1:1"
	servicetest.Run(t, servicetest.Case{
		Name:    name,
		New:     servicetest.With(NewMain, cfg),
		Checks:  []string{service.CheckDynamoDB},
		Broken:  servicetest.With(NewMain, broken),
		Failing: service.CheckDynamoDB,
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom[Config]("", nil)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.HTTP.Addr != defaultAddr {
		t.Errorf("HTTP.Addr = %q, want %q", cfg.HTTP.Addr, defaultAddr)
	}
	cfg, err = config.LoadFrom[Config]("", map[string]string{"HTTP_ADDR": "0.0.0.0:9000"})
	if err != nil || cfg.HTTP.Addr != "0.0.0.0:9000" {
		t.Errorf("HTTP_ADDR override = %q, %v", cfg.HTTP.Addr, err)
	}
	_, err = config.LoadFrom[Config]("", map[string]string{"AWS_ENDPOINT_URL": "localhost:4566"})
	if err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL") {
		t.Errorf("LoadFrom error = %v, want one naming AWS_ENDPOINT_URL", err)
	}
}
