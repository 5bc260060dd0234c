package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/relay/lease/leasetest"
)

// testConfig returns a relay configuration on the local stack with its own lease table and event topics; its
// journal table is named after a unique prefix.
func testConfig(t *testing.T) Config {
	t.Helper()
	st := testkit.MustStack(t)
	kafkaCfg := st.Kafka
	kafkaCfg.TopicPrefix = testkit.EventTopics(t, 3)
	return Config{
		HTTP: servicetest.HTTP(), Log: servicetest.Log(), AWS: st.AWS, Kafka: kafkaCfg,
		Relay: RelayConfig{
			TablePrefix: testkit.UniqueName(t, "relay"), LeaseTable: leasetest.Table(t).Name(), Partitions: 3,
			LeaseTTL: 3 * time.Second, ScanEvery: 200 * time.Millisecond, IdleWait: 20 * time.Millisecond,
		},
	}
}

func TestService(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	broken := cfg
	broken.Kafka.Brokers = []string{"127.0.0.1:1"}
	servicetest.Run(t, servicetest.Case{
		Name:    name,
		New:     servicetest.With(NewMain, cfg),
		Checks:  []string{service.CheckDynamoDB, service.CheckKafka, CheckLeases},
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
	want := RelayConfig{
		TablePrefix: "chat", LeaseTable: "chat-relay-leases", Partitions: 12, LeaseTTL: 10 * time.Second,
		ScanEvery: 2 * time.Second, IdleWait: 250 * time.Millisecond,
	}
	if cfg.Relay != want {
		t.Errorf("relay defaults = %+v, want %+v", cfg.Relay, want)
	}
	bad := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "KAFKA_BROKERS"},
		{map[string]string{"KAFKA_BROKERS": "127.0.0.1:19092", "KAFKA_TOPIC_PARTITIONS": "0"}, "KAFKA_TOPIC_PARTITIONS"},
		{map[string]string{"KAFKA_BROKERS": "127.0.0.1:19092", "RELAY_LEASE_TTL": "10ms"}, "RELAY_LEASE_TTL"},
		{map[string]string{"KAFKA_BROKERS": "127.0.0.1:19092", "RELAY_IDLE_WAIT": "0s"}, "RELAY_IDLE_WAIT"},
	}
	for _, tc := range bad {
		if _, err := config.LoadFrom[Config]("", tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadFrom(%v) error = %v, want one naming %s", tc.env, err, tc.want)
		}
	}
}
