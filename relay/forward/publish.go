package forward

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Publisher sends a reader's records to Kafka without waiting for them, so that a reader keeps the next page
// flowing while the previous pages' acknowledgements are outstanding. Each reader calls Send from one goroutine;
// different readers call it concurrently.
type Publisher interface {
	// Send produces the records after every record of the caller's earlier calls (so each partition keeps the
	// caller's order) and returns without waiting for Kafka. It calls done exactly once, possibly on another
	// goroutine and before Send returns: with nil when Kafka acknowledged every record, or with an error when any
	// was not (then some may have been written: sending them again duplicates them, which consumers absorb).
	// done must not block. Once done is called the records are the caller's again, who may send them again or
	// reuse their memory for other records: the publisher must not read them after calling done.
	Send(ctx context.Context, records []*kgo.Record, done func(error))
}

// KafkaPublisher publishes through a franz-go client, which must be an idempotent producer (franz-go's
// default with acks=all) so that its own retries neither duplicate nor reorder a partition's records.
type KafkaPublisher struct {
	Client *kgo.Client
}

var _ Publisher = KafkaPublisher{}

// Send produces the records in order and calls done once all of them are acknowledged, with the first error.
func (p KafkaPublisher) Send(ctx context.Context, records []*kgo.Record, done func(error)) {
	if len(records) == 0 {
		done(nil)
		return
	}
	b := &ackBatch{left: len(records), done: done}
	for _, r := range records {
		p.Client.Produce(ctx, r, b.promise)
	}
}

// Publish produces the records and waits for all acknowledgements; it fails when any record was not
// acknowledged (then some may have been written).
func (p KafkaPublisher) Publish(ctx context.Context, records []*kgo.Record) error {
	if err := p.Client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("produce %d records: %w", len(records), err)
	}
	return nil
}

// ackBatch counts a Send's outstanding acknowledgements: one allocation per batch, not per record.
type ackBatch struct {
	mu   sync.Mutex
	left int
	err  error
	done func(error)
}

func (b *ackBatch) promise(r *kgo.Record, err error) {
	b.mu.Lock()
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("produce to %s: %w", r.Topic, err)
	}
	b.left--
	last, first := b.left == 0, b.err
	b.mu.Unlock()
	if last {
		b.done(first)
	}
}

// ProducerOpts are the options of the relay's producer: idempotent with acknowledgements from all in-sync
// replicas (franz-go's defaults, stated because the no-loss guarantee rests on them, and with them up to five
// produce requests in flight per broker without reordering), no linger (a batch of pages is already a batch, and
// what the readers send while requests are in flight joins the next request anyway), and a bounded delivery time
// so that a long Kafka outage surfaces as an error the reader logs and retries.
func ProducerOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(30 * time.Second),
	}
}

// Envelope returns the published envelope of a journal event.
func Envelope(r eventstore.Record) schemas.Envelope {
	return schemas.Envelope{
		ID: r.EventID, Type: r.Type, Version: r.Version, AggregateType: r.AggregateType, AggregateID: r.AggregateID,
		Seq: r.Seq, OccurredAt: r.OccurredAt, CorrelationID: r.CorrelationID, CausationID: r.CausationID,
		CommandID: r.CommandID, TraceParent: r.TraceParent, Payload: r.Payload,
	}
}
