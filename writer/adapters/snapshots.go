package adapters

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

// snapshotter saves snapshots in the background after the appends that crossed a snapshot interval, so that a
// command never waits for a snapshot upload (a large one goes to S3) and neither do the commands queued behind
// it on the same aggregate. At most one save per aggregate runs at a time: a newer snapshot of an aggregate
// being saved waits as its next, replacing any older one waiting. At most slots aggregates are saved at once; a
// snapshot of another aggregate that finds every slot busy is skipped: snapshots only shorten loading, and the
// next interval writes one. It is safe for concurrent use.
type snapshotter struct {
	store   eventstore.Store
	timeout time.Duration
	log     *slog.Logger
	slots   chan struct{}

	mu sync.Mutex
	// next holds, per aggregate being saved, the snapshot to save after the current one (nil: none).
	next map[string]*eventstore.Snapshot
	wg   sync.WaitGroup

	saved, failed, skipped atomic.Int64
}

func newSnapshotter(store eventstore.Store, slots int, timeout time.Duration, log *slog.Logger) *snapshotter {
	return &snapshotter{
		store: store, timeout: timeout, log: log, slots: make(chan struct{}, slots), next: map[string]*eventstore.Snapshot{},
	}
}

// save starts saving snap, or queues it behind the save of its aggregate, or skips it (see snapshotter); it
// never blocks.
func (s *snapshotter) save(snap eventstore.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, saving := s.next[snap.AggregateID]; saving {
		s.next[snap.AggregateID] = &snap
		return
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.skipped.Add(1)
		s.log.Debug("snapshot skipped: every slot is busy", "aggregate_id", snap.AggregateID, "seq", snap.Seq)
		return
	}
	s.next[snap.AggregateID] = nil
	s.wg.Go(func() {
		defer func() { <-s.slots }()
		for current := &snap; current != nil; current = s.following(snap.AggregateID) {
			s.saveOne(*current)
		}
	})
}

// following returns the snapshot queued behind the one just saved of aggregate id, or nil after marking the
// aggregate as no longer being saved.
func (s *snapshotter) following(id string) *eventstore.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.next[id]
	if next == nil {
		delete(s.next, id)
		return nil
	}
	s.next[id] = nil
	return next
}

// saveOne saves one snapshot; a failure is logged, not returned: the aggregate then loads from an older one.
func (s *snapshotter) saveOne(snap eventstore.Snapshot) {
	// The command that crossed the interval has been answered: the save has a deadline of its own.
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := s.store.SaveSnapshot(ctx, snap); err != nil {
		s.failed.Add(1)
		s.log.Warn("snapshot not saved; the aggregate loads from an older one", "aggregate_id", snap.AggregateID,
			"seq", snap.Seq, "bytes", len(snap.State), "error", err)
		return
	}
	s.saved.Add(1)
}

// counts returns the saves that succeeded, failed and were skipped so far.
func (s *snapshotter) counts() (saved, failed, skipped int64) {
	return s.saved.Load(), s.failed.Load(), s.skipped.Load()
}

// wait returns once every save started so far, and every save queued behind them, has ended.
func (s *snapshotter) wait() { s.wg.Wait() }
