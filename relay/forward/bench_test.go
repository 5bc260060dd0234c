package forward

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/relay/relaytest"
	"github.com/cqrses-aws/pipeline/relay/stream/streamtest"
)

const (
	benchShards   = 4
	benchRooms    = 200
	benchPerRoom  = 500 // 100,000 events a round
	benchRounds   = 3
	benchPageSize = 1000 // GetRecords' maximum
	// benchPool is how many distinct decoded items the stream serves, round-robin: as few as a GetRecords page
	// holds, so that the items are as hot in memory as a just-decoded page is and the measurement is the relay's
	// work, not the in-memory stream's.
	benchPool = 1000
)

// BenchmarkRatioRelayThroughput: events/s from stream records to Kafka acknowledgements through the relay
// (decode, envelope, headers, idempotent produce, checkpoints, four shards), over a raw franz-go producer
// sending the same records, built beforehand, to the same broker. Target ratio >= 0.7.
func BenchmarkRatioRelayThroughput(b *testing.B) {
	f := newFixture(b, 12)
	events := relaytest.Interleaved(benchRooms, benchPerRoom)
	records := make([]*kgo.Record, 0, len(events))
	enc := kafka.NewEventEncoder(f.prefix)
	for i := range events {
		r, err := enc.Record(Envelope(events[i%benchPool]))
		if err != nil {
			b.Fatal(err)
		}
		records = append(records, r)
	}
	raw := testkit.KafkaClient(b) // a plain producer: franz-go's defaults
	round := 0
	subject := func() (float64, error) {
		round++
		return relayRound(b, f, events, round)
	}
	reference := func() (float64, error) {
		start := time.Now()
		for i := range records {
			records[i] = cloneRecord(records[i])
		}
		if err := raw.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
			return 0, err
		}
		return float64(len(records)) / time.Since(start).Seconds(), nil
	}
	for b.Loop() {
		r, err := benchkit.Compare(benchRounds, subject, reference, benchkit.Over)
		r.Unit = "events/s"
		r.Note = fmt.Sprintf("target ratio >= 0.7; %d events (items from a pool of %d) on %d shards, pages of %d; "+
			"reference: raw franz-go producer", len(events), benchPool, benchShards, benchPageSize)
		benchkit.Save(b, "relay_throughput", r, err)
	}
}

// relayRound relays the events from a fresh stream of closed shards (rooms spread over them) and returns the
// events/s until every shard is read to its end and checkpointed.
func relayRound(b testing.TB, f *fixture, events []eventstore.Record, round int) (float64, error) {
	arn := fmt.Sprintf("%s-round-%d", fakeARN, round)
	fake := streamtest.New(arn, benchPageSize)
	for s := range benchShards {
		fake.AddShard(fmt.Sprintf("shard-%d", s), "")
	}
	pool := relaytest.Items(events[:benchPool])
	for i := range events {
		fake.Append(fmt.Sprintf("shard-%d", i%benchRooms%benchShards), pool[i%benchPool])
	}
	for s := range benchShards {
		fake.Split(fmt.Sprintf("shard-%d", s))
	}
	r := f.relay(fake.As("bench"), nil, func(c *Config) { c.Owner = fmt.Sprintf("bench-%d", round) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- r.Run(ctx) }()
	// The readers end once their shard is read, acknowledged and checkpointed as finished: watch them come and
	// go in memory (a millisecond apart, not to load the lease table's server), then check the leases.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Minute)
	for started := false; ; {
		owned := len(r.Owned())
		if started = started || owned > 0; started && owned == 0 {
			break
		}
		select {
		case <-tick.C:
		case err := <-done:
			return 0, fmt.Errorf("relay stopped early: %v", err)
		case <-deadline:
			return 0, fmt.Errorf("relay did not finish within 5 minutes")
		}
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return 0, err
	}
	for s := range benchShards {
		if l := f.leaseOf(arn, fmt.Sprintf("shard-%d", s)); !l.Finished {
			return 0, fmt.Errorf("shard-%d not finished: %+v", s, l)
		}
	}
	return float64(len(events)) / elapsed.Seconds(), nil
}

// cloneRecord returns a fresh record with r's content: a produced record must not be produced again.
func cloneRecord(r *kgo.Record) *kgo.Record {
	return &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: r.Headers}
}
