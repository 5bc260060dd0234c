package testkit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
)

// KafkaClient returns a franz-go client for the stack's broker with opts added, after checking that the broker
// answers; the client is closed when the test ends.
func KafkaClient(tb testing.TB, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	st := MustStack(tb)
	cl, err := kafka.NewClient(st.Kafka, opts...)
	if err != nil {
		tb.Fatalf("testkit: kafka client: %v", err)
	}
	tb.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := kafka.Ping(ctx, cl); err != nil {
		unreachable(tb, "Kafka", strings.Join(st.Kafka.Brokers, ","), err)
	}
	return cl
}

// KafkaTopic creates a topic with a unique name, the given partition count and the project's infinite retention,
// and deletes it when the test ends; it returns the name.
func KafkaTopic(tb testing.TB, partitions int32) string {
	tb.Helper()
	name := strings.ReplaceAll(UniqueName(tb, "test"), "-", ".")
	createTopics(tb, kafka.Topic{Name: name, Partitions: partitions})
	return name
}

// EventTopics creates the event topics of every aggregate type (<prefix>.room.events, …) under a unique
// prefix, with the given partition count, deletes them when the test ends, and returns the prefix.
func EventTopics(tb testing.TB, partitions int32) string {
	tb.Helper()
	prefix := strings.ReplaceAll(UniqueName(tb, "test"), "-", ".")
	createTopics(tb, kafka.EventTopics(prefix, partitions)...)
	return prefix
}

func createTopics(tb testing.TB, topics ...kafka.Topic) {
	tb.Helper()
	adm := kadm.NewClient(KafkaClient(tb))
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, adm, topics...); err != nil {
		tb.Fatalf("testkit: %v", err)
	}
	names := make([]string, 0, len(topics))
	for _, t := range topics {
		names = append(names, t.Name)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		resps, err := adm.DeleteTopics(ctx, names...)
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			tb.Errorf("testkit: delete topics %v: %v", names, err)
		}
	})
}
