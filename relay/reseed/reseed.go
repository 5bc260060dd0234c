// Package reseed publishes events from the journal table itself rather than from its stream: the recovery when
// stream records were trimmed before the relay published them, or when a topic must be rebuilt. Publishing is
// idempotent downstream: consumers dedupe by (aggregate id, seq).
package reseed

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/relay/forward"
)

// batchSize is how many events are published before waiting for their acknowledgement.
const batchSize = 1000

// Publisher sends records to Kafka and returns once every one of them is acknowledged, or with an error when
// any was not (then some may have been written: seeding again duplicates them, which consumers absorb).
// forward.KafkaPublisher is one.
type Publisher interface {
	Publish(ctx context.Context, records []*kgo.Record) error
}

// Seeder publishes journal events.
type Seeder struct {
	DB          *dynamodb.Client
	Table       string
	TopicPrefix string
	Publisher   Publisher
}

// Aggregate publishes every event of one aggregate, in seq order, and returns how many.
func (s Seeder) Aggregate(ctx context.Context, aggregateID string) (int, error) {
	pages := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#aid = :aid"),
		ExpressionAttributeNames:  map[string]string{"#aid": eventstore.AttrAggregateID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":aid": &types.AttributeValueMemberS{Value: aggregateID}},
	})
	var (
		enc   = kafka.NewEventEncoder(s.TopicPrefix)
		batch []*kgo.Record
		n     int
	)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("read journal of %s: %w", aggregateID, err)
		}
		for _, item := range page.Items {
			ev, err := eventstore.RecordFromItem(item)
			if err != nil {
				return n, fmt.Errorf("journal of %s: %w", aggregateID, err)
			}
			rec, err := enc.Record(forward.Envelope(ev))
			if err != nil {
				return n, err
			}
			if batch = append(batch, rec); len(batch) == batchSize {
				if err := s.Publisher.Publish(ctx, batch); err != nil {
					return n, err
				}
				n, batch = n+len(batch), batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		if err := s.Publisher.Publish(ctx, batch); err != nil {
			return n, err
		}
		n += len(batch)
	}
	return n, nil
}

// All publishes every aggregate's events, aggregate after aggregate, and returns how many; progress, when not
// nil, is called after each aggregate.
func (s Seeder) All(ctx context.Context, progress func(aggregateID string, events int)) (int, error) {
	pages := dynamodb.NewScanPaginator(s.DB, &dynamodb.ScanInput{
		TableName:                 aws.String(s.Table),
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String("#seq = :first"),
		ProjectionExpression:      aws.String("#aid"),
		ExpressionAttributeNames:  map[string]string{"#aid": eventstore.AttrAggregateID, "#seq": eventstore.AttrSeq},
		ExpressionAttributeValues: map[string]types.AttributeValue{":first": &types.AttributeValueMemberN{Value: "1"}},
	})
	total := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return total, fmt.Errorf("scan journal %s: %w", s.Table, err)
		}
		for _, item := range page.Items {
			id, ok := item[eventstore.AttrAggregateID].(*types.AttributeValueMemberS)
			if !ok {
				return total, fmt.Errorf("scan journal %s: item without aggregate id", s.Table)
			}
			n, err := s.Aggregate(ctx, id.Value)
			total += n
			if err != nil {
				return total, err
			}
			if progress != nil {
				progress(id.Value, n)
			}
		}
	}
	return total, nil
}
