package runner_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
)

func TestAppliesEveryEventOnceInOrderDespiteDuplicates(t *testing.T) {
	t.Parallel()
	for _, stored := range []bool{true, false} {
		t.Run(fmt.Sprintf("offsets stored with the model %v", stored), func(t *testing.T) {
			t.Parallel()
			prefix := testkit.EventTopics(t, 3)
			events := history(prefix, 20, 10)
			produce(t, prefix, events...)
			produce(t, prefix, events[:100]...) // delivered twice, as after a relay crash
			target := newMemTarget(stored)
			stop := start(t, config(t, prefix), target)
			testkit.Eventually(t, time.Minute, "every event applied", func() bool { return complete(target.snapshot(), prefix, 20, 10) == nil })
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if err := complete(target.snapshot(), prefix, 20, 10); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestResumesFromStoredOffsetsNotTheGroup(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	produce(t, prefix, history(prefix, 1, 6)...)
	target := newMemTarget(true)
	// The model already holds the first 4 events (seqs 1–4 at offsets 0–3): the runner must start at offset 4
	// although its group has committed nothing.
	id := prefix + "-acct-0"
	target.applied[id] = []int64{1, 2, 3, 4}
	target.states[id] = projection.State{Seq: 4}
	target.offsets.Set(prefix+".account.events", 0, 4)
	stop := start(t, config(t, prefix), target)
	testkit.Eventually(t, time.Minute, "the last events applied", func() bool { return len(target.snapshot()[id]) == 6 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := target.snapshot()[id]; fmt.Sprint(got) != "[1 2 3 4 5 6]" {
		t.Fatalf("applied %v, want [1 2 3 4 5 6]", got)
	}
}

func TestPoisonEventGoesToTheDLQParksItsAggregateAndRedriveAppliesIt(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 2)
	cfg := config(t, prefix)
	x, z := prefix+"-x", prefix+"-z"
	bogus := renamed(x, 2)
	bogus.Type = "AccountNicknamed" // a type this code does not know yet
	produce(t, prefix, renamed(x, 1), renamed(z, 1))
	produce(t, prefix, bogus)
	produce(t, prefix, renamed(x, 3), renamed(z, 2))
	produceRaw(t, &kgo.Record{Topic: prefix + ".account.events", Value: []byte("{not json")})
	target := newMemTarget(true)
	stop := start(t, cfg, target)

	testkit.Eventually(t, time.Minute, "z applied and x parked", func() bool {
		return len(target.snapshot()[z]) == 2 && target.state(x).Parked
	})
	dead := readDLQ(t, cfg, 3)
	// x's two dead letters keep x's order; the malformed record, on whichever partition, comes in any place.
	var ofX, others []string
	for _, r := range dead {
		if string(r.Key) == x {
			ofX = append(ofX, kafkaHeader(r, runner.HeaderDLQReason))
		} else {
			others = append(others, string(r.Key)+"/"+kafkaHeader(r, runner.HeaderDLQReason))
		}
	}
	if fmt.Sprint(ofX) != "[poison parked]" || fmt.Sprint(others) != "[/poison]" {
		t.Fatalf("dead letters of x %q and others %q; want [poison parked] (the bogus event, then x's next one) and the malformed record [/poison]", ofX, others)
	}
	if got := target.snapshot()[x]; fmt.Sprint(got) != "[1]" {
		t.Fatalf("x applied %v while parked, want [1]", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// The fix: this code reads the new type (as a rename).
	fixed := cfg
	fixed.Decode = decodeNicknames
	r, err := runner.New(fixed, target)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Redrive(context.Background(), runner.NewDLQ(cfg.Kafka, projection.DLQTopic(prefix, cfg.Name)))
	if err != nil {
		t.Fatalf("Redrive: %v", err)
	}
	if rep.Applied != 2 || rep.Unparked != 1 || rep.Failed != 1 {
		t.Fatalf("redrive %+v, want 2 applied, x unparked, the malformed record still failing", rep)
	}
	if got := target.snapshot()[x]; fmt.Sprint(got) != "[1 2 3]" || target.state(x).Parked {
		t.Fatalf("x applied %v parked %v after redrive, want [1 2 3] unparked", got, target.state(x).Parked)
	}
	// x takes new events again.
	produce(t, prefix, renamed(x, 4))
	start(t, fixed, target)
	testkit.Eventually(t, time.Minute, "x's next event applied", func() bool { return len(target.snapshot()[x]) == 4 })
}

func TestGapIsFilledFromTheJournal(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	journal := eventstore.NewMemory()
	id := prefix + "-acct-0"
	var records []eventstore.Record
	for s := int64(1); s <= 5; s++ {
		e := renamed(id, s)
		records = append(records, eventstore.Record{AggregateID: id, AggregateType: e.AggregateType, Seq: s, Type: e.Type,
			Version: e.Version, EventID: e.ID, OccurredAt: e.OccurredAt, CorrelationID: "c", CausationID: "c", CommandID: "c",
			Payload: e.Payload})
	}
	if err := journal.Append(context.Background(), eventstore.AppendRequest{AggregateID: id, Events: records}); err != nil {
		t.Fatal(err)
	}
	produce(t, prefix, renamed(id, 1), renamed(id, 2), renamed(id, 5)) // 3 and 4 never reached Kafka
	cfg := config(t, prefix)
	cfg.Journal = journal
	target := newMemTarget(true)
	start(t, cfg, target)
	testkit.Eventually(t, time.Minute, "1–5 applied", func() bool { return len(target.snapshot()[id]) == 5 })
	if got := target.snapshot()[id]; fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("applied %v, want [1 2 3 4 5]", got)
	}
}

func TestGapTheJournalCannotFillStopsThePartitionLoudly(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	x, y := prefix+"-x", prefix+"-y"
	produce(t, prefix, renamed(x, 1), renamed(y, 1), renamed(x, 3), renamed(y, 2))
	target := newMemTarget(true)
	stop := start(t, config(t, prefix), target) // no journal
	topic := prefix + ".account.events"
	testkit.Eventually(t, time.Minute, "the partition stopped at the gap", func() bool {
		o, _ := target.Offsets(context.Background())
		return o[topic][0] == 2
	})
	produce(t, prefix, renamed(y, 3))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := target.snapshot()
	o, _ := target.Offsets(context.Background())
	if fmt.Sprint(got[x]) != "[1]" || fmt.Sprint(got[y]) != "[1]" || o[topic][0] != 2 {
		t.Fatalf("applied x %v y %v, next offset %d; want x [1], y [1], the partition held at offset 2", got[x], got[y], o[topic][0])
	}
}

func TestTransientFailuresAreRetriedNeverSkipped(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 2)
	produce(t, prefix, history(prefix, 10, 5)...)
	target := newMemTarget(false)
	target.failCommits = 4
	start(t, config(t, prefix), target)
	testkit.Eventually(t, time.Minute, "every event applied", func() bool { return complete(target.snapshot(), prefix, 10, 5) == nil })
}

func TestShutdownFinishesAndCommitsTheBatchInHand(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	produce(t, prefix, history(prefix, 5, 4)...)
	target := newMemTarget(true)
	target.applying, target.release = make(chan int, 1), make(chan struct{})
	stop := start(t, config(t, prefix), target)
	var n int
	select {
	case n = <-target.applying:
	case <-time.After(time.Minute):
		t.Fatal("no batch started")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// The runner is asked to stop while the batch is in hand; it must finish it.
	select {
	case err := <-stopped:
		t.Fatalf("Run returned %v before the batch in hand was finished", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(target.release)
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	total := 0
	for _, seqs := range target.snapshot() {
		total += len(seqs)
	}
	if total != n || n == 0 {
		t.Fatalf("applied %d events after shutdown, want the %d of the batch in hand", total, n)
	}
}

// readDLQ consumes the first n records of cfg's dead-letter topic.
func readDLQ(t testing.TB, cfg runner.Config, n int) []*kgo.Record {
	t.Helper()
	cl := testkit.KafkaClient(t, kgo.ConsumeTopics(projection.DLQTopic(cfg.Kafka.TopicPrefix, cfg.Name)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d dead letters: %v", len(out), n, errors.Join(ctx.Err()))
		}
		out = append(out, f.Records()...)
	}
	return out
}

func TestRebalanceNeverAppliesABatchTwice(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 6)
	cfg := config(t, prefix)
	cfg.BatchSize = 100
	target := newMemTarget(true)
	first := start(t, cfg, target)
	produce(t, prefix, history(prefix, 60, 10)...)
	testkit.Eventually(t, time.Minute, "the first runner applying", func() bool { return len(target.snapshot()) > 0 })
	// A second member joins mid-stream (partitions move to it), then the first leaves (they all move back).
	start(t, cfg, target)
	produce(t, prefix, history(prefix+"-b", 60, 10)...)
	if err := first(); err != nil {
		t.Fatalf("first runner: %v", err)
	}
	testkit.Eventually(t, 2*time.Minute, "every event applied", func() bool {
		return complete(target.snapshot(), prefix, 60, 10) == nil && complete(target.snapshot(), prefix+"-b", 60, 10) == nil
	})
	// complete also fails on an event applied twice: each aggregate's applied seqs must be exactly 1..10.
}

// kafkaHeader is kafka.Header without its presence flag.
func kafkaHeader(r *kgo.Record, key string) string {
	v, _ := kafka.Header(r, key)
	return v
}
