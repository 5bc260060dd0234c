package kafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// TestConsumerGroupResumesFromCommittedOffsets produces to a real broker, consumes part of a topic in a consumer
// group with manual commits, and checks that a new member of the same group resumes right after the commit.
func TestConsumerGroupResumesFromCommittedOffsets(t *testing.T) {
	t.Parallel()
	topic := testkit.KafkaTopic(t, 3)
	group := testkit.UniqueName(t, "group")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	producer := testkit.KafkaClient(t, kgo.DefaultProduceTopic(topic))
	const total = 30
	produce := func(from, to int) {
		t.Helper()
		var recs []*kgo.Record
		for i := from; i < to; i++ {
			recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("agg-%d", i%5)), Value: []byte(fmt.Sprint(i))})
		}
		if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	produce(0, total)

	consumer := func() *kgo.Client {
		return testkit.KafkaClient(t,
			kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group),
			kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}

	first := consumer()
	seen := poll(ctx, t, first, total)
	if len(seen) != total {
		t.Fatalf("first member saw %d records, want %d", len(seen), total)
	}
	if err := first.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	first.Close()

	produce(total, total+10)
	second := consumer()
	again := poll(ctx, t, second, 10)
	for v := range again {
		if v < total {
			t.Errorf("second member re-read record %d, committed before it joined", v)
		}
	}
	if len(again) != 10 {
		t.Errorf("second member saw %d new records, want 10", len(again))
	}

	// The group's committed offsets, read back through the admin API, cover all 30 first records.
	offsets, err := kadm.NewClient(second).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	var committed int64
	offsets.Each(func(o kadm.OffsetResponse) { committed += o.At })
	if committed != total {
		t.Errorf("committed offsets add up to %d, want %d", committed, total)
	}
}

// poll fetches until want distinct values arrived or ctx ends; it returns the values seen, by record value.
func poll(ctx context.Context, t *testing.T, cl *kgo.Client, want int) map[int]bool {
	t.Helper()
	seen := map[int]bool{}
	for len(seen) < want && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		fetches.EachError(func(topic string, p int32, err error) {
			if ctx.Err() == nil {
				t.Fatalf("fetch %s/%d: %v", topic, p, err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			var v int
			if _, err := fmt.Sscan(string(r.Value), &v); err != nil {
				t.Fatalf("record value %q: %v", r.Value, err)
			}
			seen[v] = true
		})
	}
	return seen
}

// TestEnsureTopicsKeepsEventsForever checks that project topics get infinite retention and the asked partition
// count, and that ensuring an existing topic again is not an error.
func TestEnsureTopicsKeepsEventsForever(t *testing.T) {
	t.Parallel()
	adm := kadm.NewClient(testkit.KafkaClient(t))
	name := testkit.UniqueName(t, "ensure")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	t.Cleanup(func() { _, _ = adm.DeleteTopic(context.Background(), name) })

	topic := kafka.Topic{Name: name, Partitions: 4}
	for range 2 {
		if err := kafka.EnsureTopics(ctx, adm, topic); err != nil {
			t.Fatalf("ensure topics: %v", err)
		}
	}

	details, err := adm.ListTopics(ctx, name)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	if got := len(details[name].Partitions); got != 4 {
		t.Errorf("partitions = %d, want 4", got)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		t.Fatalf("describe configs: %v", err)
	}
	rc, err := configs.On(name, nil)
	if err != nil {
		t.Fatalf("configs of %s: %v", name, err)
	}
	var retention string
	for _, c := range rc.Configs {
		if c.Key == "retention.ms" {
			retention = c.MaybeValue()
		}
	}
	if retention != kafka.KeepForever {
		t.Errorf("retention.ms = %q, want %q", retention, kafka.KeepForever)
	}
}

// TestEnsureTopicsRejectsZeroPartitions checks the argument validation that needs no broker.
func TestEnsureTopicsRejectsZeroPartitions(t *testing.T) {
	t.Parallel()
	err := kafka.EnsureTopics(t.Context(), nil, kafka.Topic{Name: "x", Partitions: 0})
	if err == nil {
		t.Fatal("EnsureTopics with 0 partitions succeeded, want an error")
	}
}
