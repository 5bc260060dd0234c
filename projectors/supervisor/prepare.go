package supervisor

import (
	"context"
	"fmt"
	"time"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
)

// building is what start needs to know of a version built beside the live one: the live version's target and
// number, or a nil target when no version is live.
type building struct {
	live        projection.Target
	liveVersion int
}

// prepare hands a version being built its horizon when its target is a projection.Preparer, trying again with
// backoff until it succeeds or ctx ends (a failure is transient, like a batch's).
//
// The horizon is where the version is sure to have applied before caughtUp lets it replace the live one: per
// partition the live version's position (at most the partition's end), or the end of the topics when none is
// live. Both only grow, so the version passes the horizon before it goes live.
func (s *Supervisor) prepare(ctx context.Context, p projection.Projection, version int, target projection.Target, b *building) error {
	pr, ok := target.(projection.Preparer)
	if !ok {
		return nil
	}
	name := projection.TargetName(p.Name(), version)
	backoff, maxBackoff := s.cfg.Runner.MinBackoff, s.cfg.Runner.MaxBackoff
	if backoff <= 0 {
		backoff = runner.DefaultMinBackoff
	}
	if maxBackoff < backoff {
		maxBackoff = max(runner.DefaultMaxBackoff, backoff)
	}
	for {
		err := s.prepareOnce(ctx, p, version, target, pr, b)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("prepare %s: %w", name, ctx.Err())
		}
		s.log.Warn("prepare failed; trying again", "target", name, "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("prepare %s: %w", name, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (s *Supervisor) prepareOnce(ctx context.Context, p projection.Projection, version int, target projection.Target,
	pr projection.Preparer, b *building) error {
	var (
		lags []runner.PartitionLag
		err  error
	)
	if b.live != nil {
		lags, err = s.lags(ctx, p, b.live, b.liveVersion)
	} else {
		lags, err = s.lags(ctx, p, target, version) // only the end offsets are used
	}
	if err != nil {
		return err
	}
	horizon := projection.Offsets{}
	for _, l := range lags {
		if b.live != nil {
			horizon.Set(l.Topic, l.Partition, min(l.Committed, l.End))
		} else {
			horizon.Set(l.Topic, l.Partition, l.End)
		}
	}
	started := time.Now()
	if err := pr.Prepare(ctx, horizon, runner.Reader(s.cfg.Runner.Kafka, s.cfg.Runner.ClientOpts...)); err != nil {
		return err
	}
	s.log.Info("build prepared", "target", projection.TargetName(p.Name(), version), "seconds", time.Since(started).Seconds())
	return nil
}
