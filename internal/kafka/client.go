// Package kafka holds the project's franz-go setup: client construction from the typed configuration (TLS and
// SASL included, AWS_MSK_IAM for Amazon MSK), topic creation with the project's retention, and readiness probes.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// NewClient builds a franz-go client with the options of cfg (see Options: brokers, client id, TLS, SASL); opts
// add the caller's role (producer, group consumer, …). It returns an error when the configuration is invalid or
// an option is rejected.
func NewClient(cfg config.Kafka, opts ...kgo.Opt) (*kgo.Client, error) {
	base, err := Options(cfg)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("create kafka client: %w", err)
	}
	return cl, nil
}

// Ping is a readiness probe: it succeeds when a broker answers a metadata request.
func Ping(ctx context.Context, cl *kgo.Client) error {
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka ping: %w", err)
	}
	return nil
}

// Topic describes a topic the project owns.
type Topic struct {
	Name       string
	Partitions int32
	// Configs override broker defaults, e.g. {"cleanup.policy": "compact"}.
	Configs map[string]string
}

// KeepForever is the retention of event topics: infinite, because replaying from offset zero is a feature.
const KeepForever = "-1"

// EnsureTopics creates the topics that do not exist yet, each with retention.ms=-1 unless its Configs say
// otherwise, and waits until the brokers' metadata shows every topic with its partitions (a new topic is not
// visible at once); an existing topic is left as it is (its partition count is not changed). It returns the first
// failure, wrapped with the topic name, or the context's error when the topics do not show in time.
func EnsureTopics(ctx context.Context, adm *kadm.Client, topics ...Topic) error {
	for _, t := range topics {
		if t.Partitions < 1 {
			return fmt.Errorf("topic %s: partitions must be at least 1, got %d", t.Name, t.Partitions)
		}
		configs := map[string]*string{"retention.ms": strPtr(KeepForever)}
		for k, v := range t.Configs {
			configs[k] = strPtr(v)
		}
		resp, err := adm.CreateTopic(ctx, t.Partitions, -1, configs, t.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s with %s partitions: %w", t.Name, strconv.Itoa(int(t.Partitions)), err)
		}
	}
	return awaitTopics(ctx, adm, topics)
}

// awaitTopics polls the metadata every 50 ms until each topic is listed without error and with partitions.
func awaitTopics(ctx context.Context, adm *kadm.Client, topics []Topic) error {
	names := make([]string, 0, len(topics))
	for _, t := range topics {
		names = append(names, t.Name)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		details, err := adm.ListTopics(ctx, names...)
		missing := ""
		for _, n := range names {
			if d, ok := details[n]; err == nil && (!ok || d.Err != nil || len(d.Partitions) == 0) {
				missing = n
				break
			}
		}
		if err == nil && missing == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("topic %s not in the metadata yet", missing)
			}
			return fmt.Errorf("await topics: %w: %w", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func strPtr(s string) *string { return &s }
