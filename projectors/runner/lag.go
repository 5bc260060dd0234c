package runner

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

// PartitionLag is how far one version of a projection is behind on one partition.
type PartitionLag struct {
	Topic     string
	Partition int32
	// Committed is the next offset the version will apply (stored with the model, or committed to its group).
	Committed int64
	// End is the partition's end offset (the next offset to be written).
	End int64
}

// Lag returns the records written but not yet applied.
func (l PartitionLag) Lag() int64 { return max(l.End-l.Committed, 0) }

// Lags returns the lag of every partition of topics for the version whose group is group and target is target
// (whose stored offsets are used when it stores any, else the group's committed offsets), sorted by topic and
// partition. It fails when Kafka or the target cannot be read.
func Lags(ctx context.Context, adm *kadm.Client, topics []string, group string, target projection.Target) ([]PartitionLag, error) {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	stored, err := target.Offsets(ctx)
	if err != nil {
		return nil, fmt.Errorf("read stored offsets: %w", err)
	}
	if stored == nil {
		fetched, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
		}
		stored = projection.Offsets{}
		fetched.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && o.At >= 0 {
				stored.Set(o.Topic, o.Partition, o.At)
			}
		})
	}
	var lags []PartitionLag
	ends.Each(func(o kadm.ListedOffset) {
		lags = append(lags, PartitionLag{Topic: o.Topic, Partition: o.Partition, Committed: stored[o.Topic][o.Partition], End: o.Offset})
	})
	sort.Slice(lags, func(i, j int) bool {
		if lags[i].Topic != lags[j].Topic {
			return lags[i].Topic < lags[j].Topic
		}
		return lags[i].Partition < lags[j].Partition
	})
	return lags, nil
}

// CaughtUp reports whether no partition of lags has a lag.
func CaughtUp(lags []PartitionLag) bool {
	for _, l := range lags {
		if l.Lag() > 0 {
			return false
		}
	}
	return true
}
