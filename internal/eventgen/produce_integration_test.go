package eventgen_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventgen"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/schemas"
)

// producerOpts are the batching options the package documentation recommends for bulk loads.
func producerOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.ProducerBatchMaxBytes(1 << 20),
		kgo.MaxBufferedRecords(100_000),
	}
}

func TestProduceWritesEveryEventUnderItsAggregateKey(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 3)
	cl := testkit.KafkaClient(t, producerOpts()...)
	events := eventgen.New(eventgen.Config{Seed: 11, Accounts: 200, Rooms: 20}).Events(3_000)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := eventgen.Produce(ctx, cl, prefix, events); err != nil {
		t.Fatalf("Produce: %v", err)
	}
	assertTopicsHold(t, prefix, events)
}

func TestProduceNWritesTheGeneratorsNextEvents(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 3)
	cl := testkit.KafkaClient(t, producerOpts()...)
	cfg := eventgen.Config{Seed: 12, Accounts: 100, Rooms: 10}
	want := eventgen.New(cfg).Events(2_001)
	g := eventgen.New(cfg)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := eventgen.ProduceN(ctx, cl, prefix, g, 2_000); err != nil {
		t.Fatalf("ProduceN: %v", err)
	}
	assertTopicsHold(t, prefix, want[:2_000])
	if next := g.Next(); !reflect.DeepEqual(next, want[2_000]) {
		t.Errorf("after ProduceN of 2,000 the generator's next event is %s seq %d of %s, want event 2,001 (%s seq %d of %s)",
			next.Type, next.Seq, next.AggregateID, want[2_000].Type, want[2_000].Seq, want[2_000].AggregateID)
	}
}

func TestProduceStopsAtAnEventItCannotEncode(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	cl := testkit.KafkaClient(t, producerOpts()...)
	events := eventgen.New(eventgen.Config{Seed: 13}).Events(3)
	events[1].AggregateType = "order"
	err := eventgen.Produce(t.Context(), cl, prefix, events)
	if !errors.Is(err, kafka.ErrNoTopic) {
		t.Fatalf("Produce = %v, want ErrNoTopic", err)
	}
}

func TestProduceReportsAnEndedContext(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 1)
	cl := testkit.KafkaClient(t, producerOpts()...)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := eventgen.ProduceN(ctx, cl, prefix, eventgen.New(eventgen.Config{Seed: 14}), 100)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ProduceN with an ended context = %v, want context.Canceled", err)
	}
}

// assertTopicsHold reads the event topics of prefix from the start until it has as many records as events
// (or a deadline passes) and checks that they are exactly the events: the same count, each keyed by its
// aggregate id on its aggregate type's topic, with the envelope as value, and each aggregate's events in seq
// order.
func assertTopicsHold(t *testing.T, prefix string, events []schemas.Envelope) {
	t.Helper()
	want := map[string]schemas.Envelope{} // by aggregate type/id/seq
	for _, env := range events {
		want[env.AggregateType+"/"+env.AggregateID+"/"+strconv.FormatInt(env.Seq, 10)] = env
	}
	topics := map[string]string{
		kafka.EventTopic(prefix, schemas.AggregateTypeRoom):    schemas.AggregateTypeRoom,
		kafka.EventTopic(prefix, schemas.AggregateTypeAccount): schemas.AggregateTypeAccount,
	}
	cl := testkit.KafkaClient(t,
		kgo.ConsumeTopics(kafka.EventTopic(prefix, schemas.AggregateTypeRoom), kafka.EventTopic(prefix, schemas.AggregateTypeAccount)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	lastSeq := map[string]int64{}
	got := 0
	for got < len(events) && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("fetch %s/%d: %v", topic, p, err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			got++
			var env schemas.Envelope
			if err := json.Unmarshal(r.Value, &env); err != nil {
				t.Errorf("record %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
				return
			}
			key := env.AggregateType + "/" + env.AggregateID
			original, ok := want[key+"/"+strconv.FormatInt(env.Seq, 10)]
			switch {
			case !ok:
				t.Errorf("record %s/%d@%d holds %s seq %d, which was not produced", r.Topic, r.Partition, r.Offset, key, env.Seq)
			case !reflect.DeepEqual(env, original):
				t.Errorf("record of %s seq %d = %+v, want %+v", key, env.Seq, env, original)
			case string(r.Key) != env.AggregateID || topics[r.Topic] != env.AggregateType:
				t.Errorf("record of %s seq %d is on %s under key %q", key, env.Seq, r.Topic, r.Key)
			case env.Seq != lastSeq[key]+1:
				t.Errorf("record of %s seq %d follows seq %d", key, env.Seq, lastSeq[key])
			}
			lastSeq[key] = env.Seq
		})
	}
	if got != len(events) {
		t.Fatalf("read %d records back, want %d", got, len(events))
	}
}
