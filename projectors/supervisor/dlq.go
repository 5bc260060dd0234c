package supervisor

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
)

type listed = kadm.ListedOffset

// DeadLetters returns every record in p's dead-letter topic, oldest first, as of now (records added while it
// reads are left for the next call). It fails when Kafka cannot be read.
func (s *Supervisor) DeadLetters(ctx context.Context, p projection.Projection) ([]*kgo.Record, error) {
	topic := projection.DLQTopic(s.cfg.Runner.Kafka.TopicPrefix, p.Name())
	ends, err := s.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	want := map[int32]int64{}
	start := map[string]map[int32]kgo.Offset{topic: {}}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			start[topic][o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(want) == 0 {
		return nil, nil
	}
	cl, err := kafka.NewClient(s.cfg.Runner.Kafka, kgo.ConsumePartitions(start))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(want) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", topic, err)
		}
		var fetchErr error
		fetches.EachError(func(_ string, _ int32, err error) { fetchErr = errors.Join(fetchErr, err) })
		if fetchErr != nil {
			return nil, fmt.Errorf("read %s: %w", topic, fetchErr)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if end, ok := want[r.Partition]; ok && r.Offset < end {
				out = append(out, r)
				if r.Offset+1 >= end {
					delete(want, r.Partition)
				}
			}
		})
	}
	return out, nil
}

// Redrive applies p's dead-lettered records to its live version with the code now running (see
// runner.Runner.Redrive). It fails when there is no live version, or Kafka or the target fail.
func (s *Supervisor) Redrive(ctx context.Context, p projection.Projection) (runner.RedriveReport, error) {
	live, ok, err := p.Live(ctx)
	if err != nil {
		return runner.RedriveReport{}, fmt.Errorf("read the live version of %s: %w", p.Name(), err)
	}
	if !ok {
		return runner.RedriveReport{}, fmt.Errorf("%s has no live version to redrive into", p.Name())
	}
	records, err := s.DeadLetters(ctx, p)
	if err != nil {
		return runner.RedriveReport{}, err
	}
	target, err := p.Open(ctx, live)
	if err != nil {
		return runner.RedriveReport{}, fmt.Errorf("open version %d of %s: %w", live, p.Name(), err)
	}
	defer target.Close()
	cfg := s.cfg.Runner
	cfg.Name, cfg.Version = p.Name(), live
	r, err := runner.New(cfg, target)
	if err != nil {
		return runner.RedriveReport{}, err
	}
	return r.Redrive(ctx, records)
}
