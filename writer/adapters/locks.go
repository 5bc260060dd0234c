package adapters

import (
	"context"
	"fmt"
	"hash/maphash"

	"github.com/cqrses-aws/pipeline/writer/app"
)

// stripes is the number of per-aggregate locks: commands on one aggregate in this process run one at a time, so
// they never race each other in the store; unrelated aggregates rarely share a lock.
const stripes = 1024

// aggregateLocks are striped locks whose waits end with the waiter's context: a command that cannot have its
// aggregate before its deadline gives up instead of queueing without bound. It is safe for concurrent use.
type aggregateLocks struct {
	seed  maphash.Seed
	slots [stripes]chan struct{}
}

func newAggregateLocks() *aggregateLocks {
	l := &aggregateLocks{seed: maphash.MakeSeed()}
	for i := range l.slots {
		l.slots[i] = make(chan struct{}, 1)
	}
	return l
}

// lock takes id's lock and returns its release; it returns app.ErrContention (wrapped, with ctx's error) when
// ctx ends first.
func (l *aggregateLocks) lock(ctx context.Context, id string) (func(), error) {
	slot := l.slots[maphash.String(l.seed, id)%stripes]
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	default:
	}
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for %s behind other commands: %w: %w", id, app.ErrContention, ctx.Err())
	}
}
