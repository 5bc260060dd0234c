package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// DeadLetterLog is a dead-letter topic as a redrive reads it: positions are the next offset per partition.
type DeadLetterLog interface {
	// Ends returns each partition's end offset now.
	Ends(ctx context.Context) (map[int32]int64, error)
	// Read calls fn with the records from from (0 for a partition it lacks) up to to, partition by partition in
	// offset order, at most chunk at a time; it stops at fn's first error and returns it.
	Read(ctx context.Context, from, to map[int32]int64, chunk int, fn func([]*kgo.Record) error) error
}

// DLQ is a projection's dead-letter topic in Kafka.
type DLQ struct {
	kafka config.Kafka
	topic string
}

// NewDLQ returns the dead-letter topic topic on the brokers of cfg.
func NewDLQ(cfg config.Kafka, topic string) *DLQ { return &DLQ{kafka: cfg, topic: topic} }

// Ends implements DeadLetterLog; a topic that does not exist yet has no partition.
func (d *DLQ) Ends(ctx context.Context) (map[int32]int64, error) {
	cl, err := kafka.NewClient(d.kafka)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, d.topic)
	if err == nil {
		err = listed.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return map[int32]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", d.topic, err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends, nil
}

// Read implements DeadLetterLog with one consumer per partition, so that memory holds one fetch and one chunk.
func (d *DLQ) Read(ctx context.Context, from, to map[int32]int64, chunk int, fn func([]*kgo.Record) error) error {
	for _, p := range slices.Sorted(maps.Keys(to)) {
		if from[p] >= to[p] {
			continue
		}
		if err := d.readPartition(ctx, p, from[p], to[p], chunk, fn); err != nil {
			return err
		}
	}
	return nil
}

func (d *DLQ) readPartition(ctx context.Context, p int32, from, to int64, chunk int, fn func([]*kgo.Record) error) error {
	cl, err := kafka.NewClient(d.kafka,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{d.topic: {p: kgo.NewOffset().At(from)}}),
		kgo.FetchMaxPartitionBytes(1<<20))
	if err != nil {
		return err
	}
	defer cl.Close()
	buf := make([]*kgo.Record, 0, chunk)
	for next := from; next < to; {
		fetches := cl.PollRecords(ctx, chunk)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s/%d: %w", d.topic, p, err)
		}
		var fetchErr error
		fetches.EachError(func(_ string, _ int32, err error) { fetchErr = errors.Join(fetchErr, err) })
		if fetchErr != nil {
			return fmt.Errorf("read %s/%d: %w", d.topic, p, fetchErr)
		}
		for _, r := range fetches.Records() {
			if r.Offset < next || r.Offset >= to {
				continue
			}
			buf, next = append(buf, r), r.Offset+1
			if len(buf) == chunk {
				if err := fn(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		return fn(buf)
	}
	return nil
}
