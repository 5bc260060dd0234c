package forward

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Publisher sends records to Kafka and returns once every one of them is acknowledged, or with an error when
// any was not (then some may have been written: retrying duplicates them, which consumers absorb).
type Publisher interface {
	Publish(ctx context.Context, records []*kgo.Record) error
}

// KafkaPublisher publishes through a franz-go client, which must be an idempotent producer (franz-go's
// default with acks=all) so that its own retries neither duplicate nor reorder a partition's records.
type KafkaPublisher struct {
	Client *kgo.Client
}

// Publish produces the records and waits for all acknowledgements.
func (p KafkaPublisher) Publish(ctx context.Context, records []*kgo.Record) error {
	if err := p.Client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("produce %d records: %w", len(records), err)
	}
	return nil
}

// EventRecord returns the Kafka record of a journal event under the topic prefix: the envelope of the
// contract with its headers.
func EventRecord(prefix string, r eventstore.Record) (*kgo.Record, error) {
	return kafka.EventRecord(prefix, Envelope(r))
}

// Envelope returns the published envelope of a journal event.
func Envelope(r eventstore.Record) schemas.Envelope {
	return schemas.Envelope{
		ID: r.EventID, Type: r.Type, Version: r.Version, AggregateType: r.AggregateType, AggregateID: r.AggregateID,
		Seq: r.Seq, OccurredAt: r.OccurredAt, CorrelationID: r.CorrelationID, CausationID: r.CausationID,
		CommandID: r.CommandID, TraceParent: r.TraceParent, Payload: r.Payload,
	}
}
