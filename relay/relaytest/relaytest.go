// Package relaytest holds what the relay's tests share: journal events to feed a stream, a consumer that reads
// the event topics back, and the check that every aggregate's events arrived complete and in order.
package relaytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Event returns the journal record of a room's seq-th event.
func Event(aggregate string, seq int64) eventstore.Record {
	return eventstore.Record{
		AggregateID: aggregate, AggregateType: schemas.AggregateTypeRoom, Seq: seq, Type: schemas.TypeMessagePosted,
		Version: 1, EventID: fmt.Sprintf("%s-%d", aggregate, seq), OccurredAt: time.Now().UTC(),
		CorrelationID: "corr", CommandID: "cmd", TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		Payload: json.RawMessage(fmt.Sprintf(`{"message_id":"m-%d","author_id":"a","text":"hello %d"}`, seq, seq)),
	}
}

// Interleaved returns perAggregate events for each of aggregates rooms, round by round (every room's seq 1,
// then every room's seq 2, …), the way concurrent commands land in a journal.
func Interleaved(aggregates, perAggregate int) []eventstore.Record {
	out := make([]eventstore.Record, 0, aggregates*perAggregate)
	for seq := 1; seq <= perAggregate; seq++ {
		for a := range aggregates {
			out = append(out, Event(RoomID(a), int64(seq)))
		}
	}
	return out
}

// RoomID returns the id of the i-th room of Interleaved.
func RoomID(i int) string { return "room-" + strconv.Itoa(i) }

// Items returns the journal items of the events.
func Items(events []eventstore.Record) []map[string]types.AttributeValue {
	out := make([]map[string]types.AttributeValue, 0, len(events))
	for _, e := range events {
		out = append(out, eventstore.JournalItem(e))
	}
	return out
}

// Seen is one event as read back from Kafka.
type Seen struct {
	Aggregate string
	Seq       int64
	Partition int32
	Headers   map[string]string
}

// Published is what a consumer read back from the event topics.
type Published struct {
	Records []Seen // in consumption order: offset order within each partition
	Events  map[string]map[int64]int
}

// Total returns how many distinct events were read.
func (p *Published) Total() int {
	n := 0
	for _, seqs := range p.Events {
		n += len(seqs)
	}
	return n
}

// Duplicates returns how many records repeated an event already read.
func (p *Published) Duplicates() int { return len(p.Records) - p.Total() }

// Consume reads the event topics under prefix from offset zero until want distinct events were read or the
// deadline passed; it fails the test in the latter case.
func Consume(t testing.TB, prefix string, want int, deadline time.Duration) *Published {
	t.Helper()
	topics := kafka.EventTopics(prefix, 1)
	cl := testkit.KafkaClient(t, kgo.ConsumeTopics(topics[0].Name, topics[1].Name),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	p := &Published{Events: map[string]map[int64]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for p.Total() < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d distinct events of %d within %s", p.Total(), want, deadline)
		}
		if err := fetches.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("consume: %v", err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			var env schemas.Envelope
			if err := json.Unmarshal(r.Value, &env); err != nil {
				t.Fatalf("record at %s/%d@%d is no envelope: %v", r.Topic, r.Partition, r.Offset, err)
			}
			headers := map[string]string{}
			for _, h := range r.Headers {
				headers[h.Key] = string(h.Value)
			}
			p.Records = append(p.Records, Seen{Aggregate: env.AggregateID, Seq: env.Seq, Partition: r.Partition, Headers: headers})
			if p.Events[env.AggregateID] == nil {
				p.Events[env.AggregateID] = map[int64]int{}
			}
			p.Events[env.AggregateID][env.Seq]++
		})
	}
	return p
}

// CheckOrder fails the test unless every aggregate is on one partition and the first occurrences of its seqs
// come in order 1, 2, … up to perAggregate for each of the aggregates (later repeats, duplicates, are allowed).
func CheckOrder(t testing.TB, p *Published, aggregates, perAggregate int) {
	t.Helper()
	next := map[string]int64{}
	partition := map[string]int32{}
	for _, r := range p.Records {
		if part, ok := partition[r.Aggregate]; ok && part != r.Partition {
			t.Fatalf("%s is on partitions %d and %d", r.Aggregate, part, r.Partition)
		}
		partition[r.Aggregate] = r.Partition
		want := next[r.Aggregate] + 1
		switch {
		case r.Seq == want:
			next[r.Aggregate] = want
		case r.Seq > want:
			t.Fatalf("%s: seq %d arrived before seq %d", r.Aggregate, r.Seq, want)
		}
	}
	if len(next) != aggregates {
		t.Errorf("read %d aggregates, want %d", len(next), aggregates)
	}
	for agg, last := range next {
		if last != int64(perAggregate) {
			t.Errorf("%s: read up to seq %d, want %d", agg, last, perAggregate)
		}
	}
}

// Eventually waits until cond holds and fails the test after deadline (testkit.Eventually).
func Eventually(t testing.TB, deadline time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, deadline, what, cond)
}
