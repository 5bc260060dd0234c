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
	adm := kadm.NewClient(KafkaClient(tb))
	name := strings.ReplaceAll(UniqueName(tb, "test"), "-", ".")
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, adm, kafka.Topic{Name: name, Partitions: partitions}); err != nil {
		tb.Fatalf("testkit: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		resp, err := adm.DeleteTopic(ctx, name)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			tb.Errorf("testkit: delete topic %s: %v", name, err)
		}
	})
	return name
}
