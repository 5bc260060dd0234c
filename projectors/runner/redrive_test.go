package runner_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
	"github.com/cqrses-aws/pipeline/schemas"
)

// racingLog is a dead-letter topic to which, the first time a redrive reads its end while unparking, a running
// projector adds one more dead letter (the next event of a parked aggregate), as it may at any moment. It also
// records the largest chunk a redrive is handed.
type racingLog struct {
	*runner.DLQ
	t        *testing.T
	late     *kgo.Record
	mu       sync.Mutex
	reads    int // Read calls so far
	ends     int // Ends calls after the first Read
	maxChunk int
}

func (l *racingLog) Read(ctx context.Context, from, to map[int32]int64, chunk int, fn func([]*kgo.Record) error) error {
	l.mu.Lock()
	l.reads++
	l.mu.Unlock()
	return l.DLQ.Read(ctx, from, to, chunk, func(recs []*kgo.Record) error {
		l.mu.Lock()
		l.maxChunk = max(l.maxChunk, len(recs))
		l.mu.Unlock()
		return fn(recs)
	})
}

func (l *racingLog) Ends(ctx context.Context) (map[int32]int64, error) {
	l.mu.Lock()
	l.ends += min(l.reads, 1)
	first := l.ends == 1 && l.late != nil
	l.mu.Unlock()
	if first {
		produceRaw(l.t, l.late)
	}
	return l.DLQ.Ends(ctx)
}

// TestRedriveUnparksOnlyWhenEverythingParkedWasApplied: while a redrive unparks an aggregate, a projector
// dead-letters that aggregate's next event. The redrive must not unpark it then (its next event is only in the
// dead-letter topic: unparked, the aggregate would take later events past a hole); it applies the late dead letter
// too, and only then unparks. The redrive reads 2,500 dead letters in bounded chunks.
func TestRedriveUnparksOnlyWhenEverythingParkedWasApplied(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	cfg := config(t, prefix)
	x := prefix + "-x"
	bogus := renamed(x, 2)
	bogus.Type = "AccountNicknamed" // a type this code does not know yet
	events := []schemas.Envelope{renamed(x, 1), bogus}
	for seq := int64(3); seq <= 2500; seq++ {
		events = append(events, renamed(x, seq))
	}
	produce(t, prefix, events...)
	target := newMemTarget(true)
	stop := start(t, cfg, target)
	testkit.Eventually(t, time.Minute, "x parked with 2,499 dead letters", func() bool {
		ends, err := runner.NewDLQ(cfg.Kafka, projection.DLQTopic(prefix, cfg.Name)).Ends(context.Background())
		return err == nil && ends[0] == 2499 && target.state(x).Parked
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	fixed := cfg
	fixed.Decode = decodeNicknames
	late, err := kafka.NewEventEncoder(prefix).Record(renamed(x, 2501))
	if err != nil {
		t.Fatal(err)
	}
	late.Topic = projection.DLQTopic(prefix, cfg.Name)
	log := &racingLog{DLQ: runner.NewDLQ(cfg.Kafka, late.Topic), t: t, late: late}
	r, err := runner.New(fixed, target)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Redrive(context.Background(), log)
	if err != nil {
		t.Fatalf("Redrive: %v", err)
	}
	if rep.Applied != 2500 || rep.Unparked != 1 || rep.Failed != 0 || rep.StillParked != 0 {
		t.Errorf("redrive %+v, want 2,500 applied (the late one too), x unparked once", rep)
	}
	got := target.snapshot()[x]
	if len(got) != 2501 || got[2500] != 2501 || target.state(x).Parked {
		t.Errorf("x applied %d events (last %v), parked %v; want 1..2501 and unparked", len(got), got[len(got)-1], target.state(x).Parked)
	}
	if log.maxChunk == 0 || log.maxChunk > 1000 {
		t.Errorf("largest chunk %d dead letters, want 1..1000: a redrive holds a bounded part of the topic", log.maxChunk)
	}
	if log.reads < 2 {
		t.Errorf("%d reads of the dead letters, want a second one for the late dead letter", log.reads)
	}
}
