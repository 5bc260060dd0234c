package forward

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/relay/lease"
	"github.com/cqrses-aws/pipeline/relay/lease/leasetest"
	"github.com/cqrses-aws/pipeline/relay/stream"
)

// fixture is what a relay under test needs on the real servers: its own lease table, its own event topics and
// a producer.
type fixture struct {
	t      testing.TB
	leases *lease.Table
	prefix string
	pub    KafkaPublisher
}

func newFixture(t testing.TB, partitions int32) *fixture {
	t.Helper()
	return &fixture{
		t: t, leases: leasetest.Table(t), prefix: testkit.EventTopics(t, partitions),
		pub: KafkaPublisher{Client: testkit.KafkaClient(t, ProducerOpts()...)},
	}
}

// relay builds a relay reading through src with short timings, publishing through pub (nil: the fixture's
// producer); change adjusts its configuration.
func (f *fixture) relay(src stream.Source, pub Publisher, change func(*Config)) *Relay {
	f.t.Helper()
	cfg := Config{
		Table: "journal", TopicPrefix: f.prefix, LeaseTTL: 3 * time.Second, ScanEvery: 200 * time.Millisecond,
		IdleWait: 20 * time.Millisecond, ShutdownGrace: 5 * time.Second,
	}
	if change != nil {
		change(&cfg)
	}
	if pub == nil {
		pub = f.pub
	}
	m, err := NewMetrics(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := New(cfg, src, f.leases, pub, m, testLogger())
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// leaseOf returns the shard's lease as listed now (the zero Lease when there is none).
func (f *fixture) leaseOf(arn, shard string) lease.Lease {
	f.t.Helper()
	ls, err := f.leases.List(context.Background(), arn)
	if err != nil {
		f.t.Fatalf("list leases: %v", err)
	}
	for _, l := range ls {
		if l.ShardID == shard {
			return l
		}
	}
	return lease.Lease{}
}

// running is a relay started in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
	err    error
	over   bool
}

// start runs r until the test ends or stop is called.
func start(t testing.TB, r *Relay) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	run := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { run.done <- r.Run(ctx) }()
	t.Cleanup(func() { run.stop(t) })
	return run
}

// stop cancels the relay and returns Run's result; it fails the test when Run does not return within 15 s.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	if r.over {
		return r.err
	}
	select {
	case r.err = <-r.done:
		r.over = true
		return r.err
	case <-time.After(15 * time.Second):
		t.Fatal("relay did not stop within 15s")
		return nil
	}
}

// testLogger writes the relay's debug log to standard error when RELAY_TEST_LOGS is set, and nowhere otherwise.
func testLogger() *slog.Logger {
	if os.Getenv("RELAY_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
