package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// TestInitialize runs the init twice against the local stack on this test's own names: the second run finds
// everything in place and succeeds, and the tables, bucket and topics are what the services expect.
func TestInitialize(t *testing.T) {
	t.Parallel()
	st := testkit.MustStack(t)
	clients := testkit.AWS(t)
	adm := kadm.NewClient(testkit.KafkaClient(t))
	prefix := testkit.UniqueName(t, "init")
	cfg := Config{Log: config.Log{Format: "json"}, AWS: st.AWS, Kafka: st.Kafka, Init: InitConfig{
		TablePrefix: prefix, SnapshotBucket: prefix, Partitions: 3, Timeout: time.Minute,
	}}
	cfg.Kafka.TopicPrefix = strings.ReplaceAll(prefix, "-", ".")
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	tables := eventstore.TablesWithPrefix(prefix)
	names := append(tables.Names(), prefix+"-relay-leases")
	topics := []string{kafka.EventTopic(cfg.Kafka.TopicPrefix, "room"), kafka.EventTopic(cfg.Kafka.TopicPrefix, "account")}
	t.Cleanup(func() { cleanUp(t, cfg, names, topics, adm) })

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := Initialize(ctx, cfg, log)
		cancel()
		if err != nil {
			t.Fatalf("Initialize (run %d): %v", run, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range names {
		out, err := clients.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("describe %s: %v", name, err)
		}
		if s := out.Table.TableStatus; s != types.TableStatusActive {
			t.Errorf("table %s is %s, want ACTIVE", name, s)
		}
		if name == tables.Journal {
			spec := out.Table.StreamSpecification
			if spec == nil || !aws.ToBool(spec.StreamEnabled) || spec.StreamViewType != types.StreamViewTypeNewImage {
				t.Errorf("journal stream = %+v, want enabled with NEW_IMAGE", spec)
			}
		}
	}
	if _, err := clients.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(prefix)}); err != nil {
		t.Errorf("snapshot bucket: %v", err)
	}
	details, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	for _, name := range topics {
		if d, ok := details[name]; !ok || d.Err != nil || len(d.Partitions) != 3 {
			t.Errorf("topic %s: %+v, want 3 partitions", name, d)
		}
	}
}

// TestInitializeGivesUp checks that an unreachable broker ends the init with an error naming the step once
// the context ends, instead of retrying forever.
func TestInitializeGivesUp(t *testing.T) {
	t.Parallel()
	st := testkit.MustStack(t)
	prefix := testkit.UniqueName(t, "init")
	cfg := Config{AWS: st.AWS, Kafka: config.Kafka{Brokers: []string{"127.0.0.1:1"}, TopicPrefix: "never"},
		Init: InitConfig{TablePrefix: prefix, SnapshotBucket: prefix, Partitions: 1, Timeout: time.Minute}}
	cfg.ApplyDefaults()
	clients := testkit.AWS(t)
	tables := eventstore.TablesWithPrefix(prefix)
	t.Cleanup(func() {
		cleanUp(t, cfg, append(tables.Names(), cfg.Init.LeaseTable), nil, nil)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := Initialize(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "event topics") {
		t.Fatalf("Initialize = %v, want an error naming the event topics", err)
	}
	// The steps before the topics were done: the lease table exists.
	if _, err := clients.DynamoDB.DescribeTable(context.Background(),
		&dynamodb.DescribeTableInput{TableName: aws.String(cfg.Init.LeaseTable)}); err != nil {
		t.Errorf("lease table: %v", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom[Config]("", map[string]string{"KAFKA_BROKERS": "k:9092", "DYNAMODB_TABLE_PREFIX": "p"})
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.Init.LeaseTable != "p-relay-leases" || cfg.Init.Partitions != 12 || cfg.Init.Timeout != 2*time.Minute {
		t.Errorf("defaults: %+v", cfg.Init)
	}
	_, err = config.LoadFrom[Config]("", map[string]string{"KAFKA_TOPIC_PARTITIONS": "0", "STACKINIT_TIMEOUT": "-1s"})
	for _, want := range []string{"KAFKA_BROKERS", "KAFKA_TOPIC_PARTITIONS", "STACKINIT_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadFrom error %v does not name %s", err, want)
		}
	}
}

// cleanUp deletes what Initialize created: the tables, the bucket and the topics.
func cleanUp(t *testing.T, cfg Config, tables, topics []string, adm *kadm.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clients := testkit.AWS(t)
	testkit.DeleteTables(ctx, t, clients.DynamoDB, tables...)
	if _, err := clients.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(cfg.Init.SnapshotBucket)}); err != nil &&
		!strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("delete bucket: %v", err)
	}
	if len(topics) > 0 {
		resps, err := adm.DeleteTopics(ctx, topics...)
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			t.Errorf("delete topics %v: %v", topics, err)
		}
	}
}
