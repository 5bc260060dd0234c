package runner_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
)

// TestRoomEventsResumeWhileAccountEventsKeepComing starts a runner on a history of account events while an
// account is renamed every 100 ms: the room events, held back at start so that the accounts are applied first,
// must resume once the account partitions reach the end offsets they had at the assignment, not when the account
// topic falls silent (which steady traffic never lets happen).
func TestRoomEventsResumeWhileAccountEventsKeepComing(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 2)
	cfg := config(t, prefix)
	produce(t, prefix, history(prefix, 20, 5)...)
	room := prefix + "-room"
	produce(t, prefix, roomCreated(room))

	busy := prefix + "-busy"
	cl := testkit.KafkaClient(t)
	enc := kafka.NewEventEncoder(prefix)
	ctx, cancel := context.WithCancel(context.Background())
	renamesDone := make(chan struct{})
	go func() {
		defer close(renamesDone)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for seq := int64(1); ; seq++ {
			rec, err := enc.Record(renamed(busy, seq))
			if err == nil {
				err = cl.ProduceSync(ctx, rec).FirstErr()
			}
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				t.Errorf("produce rename %d: %v", seq, err)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	defer func() { cancel(); <-renamesDone }()

	target := newMemTarget(true)
	start(t, cfg, target)
	testkit.Eventually(t, 10*time.Second, "the room event applied while the renames go on", func() bool {
		return len(target.snapshot()[room]) == 1
	})
	if n := len(target.snapshot()[busy]); n == 0 {
		t.Fatalf("no rename of %s applied: the test did not run under account traffic", busy)
	}
	if err := complete(target.snapshot(), prefix, 20, 5); err != nil {
		t.Fatal(err)
	}
}

// TestEventTheTargetRefusesForGoodIsDeadLetteredNotRetried: an event the target answers with a
// projection.PermanentError goes to the dead-letter topic (reason "rejected") and parks its aggregate, whose next
// event follows it there; the other aggregates of the same batch are applied, and nothing is retried forever.
func TestEventTheTargetRefusesForGoodIsDeadLetteredNotRetried(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	cfg := config(t, prefix)
	cfg.MinBackoff, cfg.MaxBackoff = time.Hour, time.Hour // a retry would stall the test
	x, z := prefix+"-x", prefix+"-z"
	produce(t, prefix, renamed(x, 1), renamed(z, 1), renamed(x, 2), renamed(z, 2), renamed(x, 3), renamed(z, 3))
	target := newMemTarget(true)
	target.refuse = func(ev projection.Event) error {
		if ev.AggregateID == x && ev.Seq == 2 {
			return fmt.Errorf("a value beyond what the model can store")
		}
		return nil
	}
	start(t, cfg, target)
	testkit.Eventually(t, 30*time.Second, "z applied and x parked", func() bool {
		return len(target.snapshot()[z]) == 3 && target.state(x).Parked
	})
	if got := target.snapshot()[x]; fmt.Sprint(got) != "[1]" {
		t.Errorf("x applied %v, want [1]: its refused event and the one after it are dead letters", got)
	}
	dead := readDLQ(t, cfg, 2)
	var reasons []string
	for _, r := range dead {
		reasons = append(reasons, fmt.Sprintf("%s@%s:%s", r.Key, kafkaHeader(r, runner.HeaderDLQOffset), kafkaHeader(r, runner.HeaderDLQReason)))
	}
	if want := fmt.Sprintf("[%s@2:rejected %s@4:parked]", x, x); fmt.Sprint(reasons) != want {
		t.Errorf("dead letters %v, want %s", reasons, want)
	}
	if cause := kafkaHeader(dead[0], runner.HeaderDLQError); cause != "a value beyond what the model can store" {
		t.Errorf("dead letter's error %q, want the target's reason", cause)
	}
}

// TestFreshnessIsRecordedForTheLiveVersionOnly: a runner records, for every event it commits, the time from the
// event's occurred_at to the commit; a runner building a version beside the live one records none (its events
// are old history nobody reads yet).
func TestFreshnessIsRecordedForTheLiveVersionOnly(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	produce(t, prefix, history(prefix, 3, 4)...)
	count := func(building bool) uint64 {
		reg := prometheus.NewRegistry()
		m, err := runner.NewMetrics(reg)
		if err != nil {
			t.Fatal(err)
		}
		cfg := config(t, prefix)
		cfg.Metrics = m
		r, err := runner.New(cfg, newMemTarget(true))
		if err != nil {
			t.Fatal(err)
		}
		r.SetBuilding(building)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		defer func() { cancel(); <-done }()
		var n uint64
		testkit.Eventually(t, 30*time.Second, "12 events applied", func() bool {
			families, err := reg.Gather()
			if err != nil {
				return false
			}
			var applied float64
			for _, f := range families {
				switch f.GetName() {
				case "projector_events_applied_total":
					applied = f.GetMetric()[0].GetCounter().GetValue()
				case "projector_freshness_seconds":
					n = f.GetMetric()[0].GetHistogram().GetSampleCount()
				}
			}
			return applied == 12
		})
		return n
	}
	if n := count(false); n != 12 {
		t.Errorf("live version: %d freshness samples, want 12 (one per event)", n)
	}
	if n := count(true); n != 0 {
		t.Errorf("version being built: %d freshness samples, want none", n)
	}
}
