package runner

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Reader returns a projection.ReadFunc over the brokers of cfg; opts are added to its Kafka clients' options.
// It reads without a consumer group and commits nothing. A record is filtered by its type header before its
// value is decoded, so a pass over millions of events for a few types costs little more than the fetches.
func Reader(cfg config.Kafka, opts ...kgo.Opt) projection.ReadFunc {
	return func(ctx context.Context, until projection.Offsets, types []string, fn func(projection.Event) error) error {
		return readEvents(ctx, cfg, opts, until, types, fn)
	}
}

func readEvents(ctx context.Context, cfg config.Kafka, opts []kgo.Opt, until projection.Offsets, types []string,
	fn func(projection.Event) error) error {
	start := map[string]map[int32]kgo.Offset{}
	ends := projection.Offsets{} // the partitions not read up to their horizon yet
	left := 0
	for topic, parts := range until {
		for p, end := range parts {
			if end > 0 {
				if start[topic] == nil {
					start[topic] = map[int32]kgo.Offset{}
				}
				start[topic][p] = kgo.NewOffset().AtStart()
				ends.Set(topic, p, end)
				left++
			}
		}
	}
	if left == 0 {
		return nil
	}
	cl, err := kafka.NewClient(cfg, append([]kgo.Opt{
		kgo.ConsumePartitions(start),
		kgo.FetchMaxBytes(8 << 20),
		kgo.FetchMaxPartitionBytes(1 << 20),
	}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for left > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var fnErr error
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			end := ends[fp.Topic][fp.Partition]
			if fnErr != nil || end <= 0 {
				return
			}
			for _, rec := range fp.Records {
				if rec.Offset >= end {
					break
				}
				if fnErr = readRecord(rec, types, fn); fnErr != nil {
					return
				}
			}
			if n := len(fp.Records); n > 0 && fp.Records[n-1].Offset >= end-1 {
				ends[fp.Topic][fp.Partition] = 0 // done: later fetches of it are ignored
				cl.PauseFetchPartitions(map[string][]int32{fp.Topic: {fp.Partition}})
				left--
			}
		})
		if fnErr != nil {
			return fnErr
		}
	}
	return nil
}

// readRecord decodes rec when its type is wanted and hands it to fn; a record that does not decode is skipped
// (the runner dead-letters it when it applies it).
func readRecord(rec *kgo.Record, types []string, fn func(projection.Event) error) error {
	if len(types) > 0 {
		if typ, ok := kafka.Header(rec, kafka.HeaderType); ok && !slices.Contains(types, typ) {
			return nil
		}
	}
	env, err := schemas.UnmarshalEnvelope(rec.Value)
	if err != nil {
		return nil
	}
	if len(types) > 0 && !slices.Contains(types, env.Type) {
		return nil
	}
	e, err := DecodeEnvelope(env)
	if err != nil {
		return nil
	}
	e.Topic, e.Partition, e.Offset = rec.Topic, rec.Partition, rec.Offset
	if err := fn(e); err != nil {
		return fmt.Errorf("read %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)
	}
	return nil
}
