package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/relay/lease/leasetest"
	"github.com/cqrses-aws/pipeline/relay/relaytest"
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
		ScanEvery: 2 * time.Second, IdleWait: 250 * time.Millisecond, BusyWait: 50 * time.Millisecond,
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

// TestCreatesTopics starts the relay with a topic prefix whose topics do not exist: it creates both event
// topics with the configured partition count and infinite retention.
func TestCreatesTopics(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Kafka.TopicPrefix = strings.ReplaceAll(testkit.UniqueName(t, "created"), "-", ".")
	cfg.Relay.Partitions = 5
	adm := kadm.NewClient(testkit.KafkaClient(t))
	names := []string{cfg.Kafka.TopicPrefix + ".account.events", cfg.Kafka.TopicPrefix + ".room.events"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adm.DeleteTopics(ctx, names...); err != nil {
			t.Errorf("delete topics: %v", err)
		}
	})
	m, err := NewMain(context.Background(), cfg, servicetest.NewLogs(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	var details kadm.TopicDetails
	relaytest.Eventually(t, 30*time.Second, "the relay created its topics", func() bool {
		details, err = adm.ListTopics(context.Background(), names...)
		return err == nil && details.Has(names[0]) && details.Has(names[1]) &&
			details[names[0]].Err == nil && details[names[1]].Err == nil
	})
	configs, err := adm.DescribeTopicConfigs(context.Background(), names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if n := len(details[name].Partitions); n != 5 {
			t.Errorf("%s has %d partitions, want 5", name, n)
		}
		rc, err := configs.On(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		retention := ""
		for _, c := range rc.Configs {
			if c.Key == "retention.ms" {
				retention = c.MaybeValue()
			}
		}
		if retention != "-1" {
			t.Errorf("%s retention.ms = %q, want -1", name, retention)
		}
	}
}
