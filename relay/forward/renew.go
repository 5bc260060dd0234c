package forward

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cqrses-aws/pipeline/relay/lease"
)

// renewEvery is how often the held leases are renewed: a third of the TTL, so that a lease survives two failed
// (or timed out) rounds in a row before it expires.
func (r *Relay) renewEvery() time.Duration { return r.cfg.LeaseTTL / 3 }

// startRenewing renews the held leases every renewEvery on a goroutine of its own, independent of discovery,
// until the returned function is called; that function waits for the goroutine to end (within a renewal's
// deadline) and may be called more than once.
func (r *Relay) startRenewing(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.renewLoop(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// renewLoop runs a renewal round every renewEvery until ctx ends. A round that outlasts the interval delays
// the next one instead of stacking up behind it (the ticker drops the missed ticks).
func (r *Relay) renewLoop(ctx context.Context) {
	tick := time.NewTicker(r.renewEvery())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.renewAll(ctx)
		}
	}
}

// renewAll renews every held lease at once, so that one slow write does not hold the others past their
// expiry, and returns when all are done.
func (r *Relay) renewAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, rd := range r.held() {
		wg.Go(func() { r.renew(ctx, rd) })
	}
	wg.Wait()
}

// held returns the readers running now.
func (r *Relay) held() []*reader {
	r.mu.Lock()
	defer r.mu.Unlock()
	readers := make([]*reader, 0, len(r.readers))
	for _, rd := range r.readers {
		readers = append(readers, rd)
	}
	return readers
}

// renew extends the reader's lease by the TTL. The write may take at most renewEvery: a later one starts with
// the next round anyway. A reader whose lease was taken, or expired while renewals failed, stops.
func (r *Relay) renew(ctx context.Context, rd *reader) {
	call, cancel := context.WithTimeout(ctx, r.renewEvery())
	defer cancel()
	l := rd.current()
	renewed, err := r.leases.Renew(call, l, r.cfg.LeaseTTL)
	switch {
	case err == nil:
		rd.setLease(renewed)
	case rd.work.Err() != nil:
		// The reader ended meanwhile (and may have released the lease, which refuses the renewal): no loss.
	case errors.Is(err, lease.ErrLost):
		rd.lost(err)
	case ctx.Err() != nil:
		// The relay stopped renewing; the readers are done.
	case time.Now().After(l.Expires):
		rd.lost(fmt.Errorf("lease expired while renewals failed: %w", err))
	default:
		r.log.Warn("renew lease failed; retrying at the next round", "shard", l.ShardID, "retry_in", r.renewEvery(),
			"error", err)
	}
}
