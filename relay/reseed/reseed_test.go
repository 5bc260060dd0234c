package reseed_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/relay/forward"
	"github.com/cqrses-aws/pipeline/relay/lease/leasetest"
	"github.com/cqrses-aws/pipeline/relay/relaytest"
	"github.com/cqrses-aws/pipeline/relay/reseed"
	"github.com/cqrses-aws/pipeline/relay/stream/streamtest"
)

const arn = streamtest.ARN

// TestReseedRecoversTrimmedEvents is the documented recovery from trimmed stream data: the relay, restarting
// from a checkpoint whose following records were trimmed, relays what is left and reports the loss; a re-seed
// from the journal table then puts every event on Kafka.
func TestReseedRecoversTrimmedEvents(t *testing.T) {
	t.Parallel()
	const rooms, perRoom = 5, 40
	events := relaytest.Interleaved(rooms, perRoom)
	journal := eventstoretest.NewDynamoDBFixture(t, nil)
	journal.Seed(t, events)
	fake := streamtest.New(arn, 25)
	fake.AddShard("s", "")
	fake.Append("s", relaytest.Items(events)...)

	leases := leasetest.Table(t)
	leasetest.Checkpointed(t, leases, arn, "s", fmt.Sprintf("%021d", 50)) // a relay stopped after record 50
	ctx := context.Background()
	fake.Trim("s", 120) // records 51..120 are lost from the stream

	prefix := testkit.EventTopics(t, 3)
	pub := forward.KafkaPublisher{Client: testkit.KafkaClient(t, forward.ProducerOpts()...)}
	reg := prometheus.NewRegistry()
	metrics, err := forward.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := forward.New(forward.Config{Table: "journal", TopicPrefix: prefix, IdleWait: 20 * time.Millisecond},
		fake.As("r"), leases, pub, metrics, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	relaytest.Consume(t, prefix, 80, time.Minute) // records 121..200
	stop()
	if err := <-done; err != nil {
		t.Fatalf("relay: %v", err)
	}
	if n := counter(t, reg, "relay_trimmed_total"); n != 1 {
		t.Fatalf("relay_trimmed_total = %v, want 1", n)
	}

	s := reseed.Seeder{DB: journal.AWS.DynamoDB, Table: journal.Tables.Journal, TopicPrefix: prefix, Publisher: pub}
	var aggregates int
	n, err := s.All(ctx, func(string, int) { aggregates++ })
	if err != nil || n != rooms*perRoom || aggregates != rooms {
		t.Fatalf("reseed all = %d events of %d aggregates, %v; want %d of %d", n, aggregates, err, rooms*perRoom, rooms)
	}
	p := relaytest.Consume(t, prefix, rooms*perRoom, time.Minute)
	for room, seqs := range p.Events {
		if len(seqs) != perRoom {
			t.Errorf("%s: %d distinct events on Kafka, want %d", room, len(seqs), perRoom)
		}
	}

	one, err := s.Aggregate(ctx, relaytest.RoomID(3))
	if err != nil || one != perRoom {
		t.Errorf("reseed one aggregate = %d, %v; want %d", one, err, perRoom)
	}
	if none, err := s.Aggregate(ctx, "room-unknown"); err != nil || none != 0 {
		t.Errorf("reseed an unknown aggregate = %d, %v; want 0, nil", none, err)
	}
}

// TestReseedPublishesInOrder re-seeds a journal into empty topics: every aggregate's events in seq order.
func TestReseedPublishesInOrder(t *testing.T) {
	t.Parallel()
	const rooms, perRoom = 30, 40 // 1,200 events: more than one publish batch
	journal := eventstoretest.NewDynamoDBFixture(t, nil)
	journal.Seed(t, relaytest.Interleaved(rooms, perRoom))
	prefix := testkit.EventTopics(t, 6)
	s := reseed.Seeder{
		DB: journal.AWS.DynamoDB, Table: journal.Tables.Journal, TopicPrefix: prefix,
		Publisher: forward.KafkaPublisher{Client: testkit.KafkaClient(t)},
	}
	if n, err := s.All(context.Background(), nil); err != nil || n != rooms*perRoom {
		t.Fatalf("reseed = %d, %v; want %d", n, err, rooms*perRoom)
	}
	p := relaytest.Consume(t, prefix, rooms*perRoom, time.Minute)
	relaytest.CheckOrder(t, p, rooms, perRoom)
	if p.Duplicates() != 0 {
		t.Errorf("%d duplicates from one re-seed, want 0", p.Duplicates())
	}
}

// counter returns the value of the named counter in reg.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}
