package forward

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
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

// ProducerOpts are the options of the relay's producer: idempotent with acknowledgements from all in-sync
// replicas (franz-go's defaults, stated because the no-loss guarantee rests on them), no linger (a page is
// already a batch, and its publisher waits for all of it), and a bounded delivery time so that a long Kafka
// outage surfaces as an error the reader logs and retries.
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
