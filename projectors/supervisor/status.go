package supervisor

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
)

// Status is what `projectors status` shows of one projection.
type Status struct {
	Name string
	// Live is the version the stable name points at; 0 when none yet.
	Live int
	// Versions are the versions whose targets exist, with their lag per partition.
	Versions []VersionStatus
	// DLQ is the number of records in the projection's dead-letter topic.
	DLQ int64
}

// VersionStatus is one version's position on every partition.
type VersionStatus struct {
	Version int
	Lags    []runner.PartitionLag
}

// Status reads p's live version, every version's lag, and the size of its dead-letter topic. It fails when the
// model, its targets or Kafka cannot be read.
func (s *Supervisor) Status(ctx context.Context, p projection.Projection) (Status, error) {
	st := Status{Name: p.Name()}
	live, ok, err := p.Live(ctx)
	if err != nil {
		return st, fmt.Errorf("read the live version of %s: %w", p.Name(), err)
	}
	if ok {
		st.Live = live
	}
	versions, err := p.Versions(ctx)
	if err != nil {
		return st, fmt.Errorf("list versions of %s: %w", p.Name(), err)
	}
	for _, v := range versions {
		target, err := p.Open(ctx, v)
		if err != nil {
			return st, fmt.Errorf("open version %d of %s: %w", v, p.Name(), err)
		}
		lags, err := s.lags(ctx, p, target, v)
		err = errors.Join(err, target.Close())
		if err != nil {
			return st, err
		}
		st.Versions = append(st.Versions, VersionStatus{Version: v, Lags: lags})
	}
	dlq := projection.DLQTopic(s.cfg.Runner.Kafka.TopicPrefix, p.Name())
	starts, err := s.adm.ListStartOffsets(ctx, dlq)
	if err != nil {
		return st, fmt.Errorf("list offsets of %s: %w", dlq, err)
	}
	ends, err := s.adm.ListEndOffsets(ctx, dlq)
	if err != nil {
		return st, fmt.Errorf("list offsets of %s: %w", dlq, err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			if start, ok := starts.Lookup(o.Topic, o.Partition); ok && start.Err == nil {
				st.DLQ += o.Offset - start.Offset
			}
		}
	})
	return st, nil
}
