package forward

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cqrses-aws/pipeline/relay/relaytest"
	"github.com/cqrses-aws/pipeline/relay/stream"
	"github.com/cqrses-aws/pipeline/relay/stream/streamtest"
)

// stuckListing is a stream source whose shard listing, once stuck, blocks until the caller's context ends: a
// DescribeStream that hangs or retries for longer than a lease lasts.
type stuckListing struct {
	stream.Source
	mu      sync.Mutex
	stuck   bool
	blocked chan struct{} // closed when a listing first blocks
	once    sync.Once
}

func newStuckListing(src stream.Source) *stuckListing {
	return &stuckListing{Source: src, blocked: make(chan struct{})}
}

// stick makes every later listing block.
func (s *stuckListing) stick() {
	s.mu.Lock()
	s.stuck = true
	s.mu.Unlock()
}

// Shards lists the shards, or blocks until ctx ends once the listing is stuck.
func (s *stuckListing) Shards(ctx context.Context, arn string) ([]stream.Shard, error) {
	s.mu.Lock()
	stuck := s.stuck
	s.mu.Unlock()
	if !stuck {
		return s.Source.Shards(ctx, arn)
	}
	s.once.Do(func() { close(s.blocked) })
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestLeasesRenewedWhileTheShardListingHangs holds relay a's shard listing for longer than two lease TTLs while
// a second instance, b, looks at the same stream with a listing that works: a keeps renewing its lease all
// along, so b never takes the shard over, and a still stops cleanly and releases the lease.
//
// It fails when renewal shares a goroutine with discovery (as before issue 13): with the listing stuck, the
// lease is not renewed, expires one TTL later and b takes it (the owner check below fails).
func TestLeasesRenewedWhileTheShardListingHangs(t *testing.T) {
	t.Parallel()
	// An empty shard: no checkpoint ever extends the lease, only renewals do.
	fake := streamtest.New(fakeARN, 10)
	fake.AddShard("s", "")
	f := newFixture(t, 1)
	slow := newStuckListing(fake.As("a"))
	a := f.relay(slow, nil, func(c *Config) { c.Owner = "a" })
	runA := start(t, a)
	relaytest.Eventually(t, 30*time.Second, "a reads the shard", func() bool { return len(a.Owned()) == 1 })
	b := f.relay(fake.As("b"), nil, func(c *Config) { c.Owner = "b" })
	runB := start(t, b)

	slow.stick()
	select {
	case <-slow.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("a did not list the shards again within 10s")
	}
	stuckAt := time.Now()
	ttl := a.cfg.LeaseTTL

	// Without a renewal the lease would expire by stuckAt+ttl; an expiry past stuckAt+2·ttl was written by a
	// renewal after that point, while the listing still hung.
	relaytest.Eventually(t, 4*ttl+10*time.Second, "a's lease is renewed past two TTLs of hung listing", func() bool {
		l := f.leaseOf(fakeARN, "s")
		if l.Owner != "a" {
			t.Fatalf("lease of s held by %q after %s of hung listing, want a's, renewed", l.Owner, time.Since(stuckAt))
		}
		return l.Expires.After(stuckAt.Add(2 * ttl))
	})
	if n := testutil.ToFloat64(a.metrics.leasesLost); n != 0 {
		t.Errorf("relay_leases_lost_total = %v, want 0", n)
	}
	if got := b.Owned(); len(got) != 0 {
		t.Errorf("b reads %v, want nothing", got)
	}

	// Shutdown does not wait for the hung listing and still gives the lease back.
	if err := runB.stop(t); err != nil {
		t.Fatalf("stop b: %v", err)
	}
	if err := runA.stop(t); err != nil {
		t.Fatalf("stop a: %v", err)
	}
	if l := f.leaseOf(fakeARN, "s"); l.Owner != "" {
		t.Errorf("lease after a stopped = %+v, want released", l)
	}
}
