package supervisor

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
)

// deadLetterChunk is how many dead letters EachDeadLetters hands over at a time.
const deadLetterChunk = 1000

// dlq returns p's dead-letter topic.
func (s *Supervisor) dlq(p projection.Projection) *runner.DLQ {
	return runner.NewDLQ(s.cfg.Runner.Kafka, projection.DLQTopic(s.cfg.Runner.Kafka.TopicPrefix, p.Name()))
}

// EachDeadLetters calls fn with the records in p's dead-letter topic as of now, oldest first, a bounded number at
// a time (records added while it reads are left for the next call). It fails when Kafka cannot be read, or with
// fn's first error.
func (s *Supervisor) EachDeadLetters(ctx context.Context, p projection.Projection, fn func([]*kgo.Record) error) error {
	log := s.dlq(p)
	ends, err := log.Ends(ctx)
	if err != nil {
		return err
	}
	return log.Read(ctx, nil, ends, deadLetterChunk, fn)
}

// Redrive applies p's dead-lettered records to its live version with the code now running, streaming the topic
// (see runner.Runner.Redrive). It fails when there is no live version, or Kafka or the target fail.
func (s *Supervisor) Redrive(ctx context.Context, p projection.Projection) (runner.RedriveReport, error) {
	live, ok, err := p.Live(ctx)
	if err != nil {
		return runner.RedriveReport{}, fmt.Errorf("read the live version of %s: %w", p.Name(), err)
	}
	if !ok {
		return runner.RedriveReport{}, fmt.Errorf("%s has no live version to redrive into", p.Name())
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
	return r.Redrive(ctx, s.dlq(p))
}
