package kafka

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/schemas"
)

// The headers of an event record: CloudEvents attributes in Kafka binary mode, the aggregate seq and the W3C
// trace context.
const (
	HeaderID          = "ce_id"
	HeaderType        = "ce_type"
	HeaderSource      = "ce_source"
	HeaderSubject     = "ce_subject"
	HeaderTime        = "ce_time"
	HeaderSpecVersion = "ce_specversion"
	HeaderContentType = "content-type"
	HeaderSeq         = "seq"
	HeaderTraceParent = "traceparent"
)

// CloudEventsSpecVersion is the CloudEvents version the headers follow.
const CloudEventsSpecVersion = "1.0"

// EventTopic returns the topic of an aggregate type's events: <prefix>.<aggregate type>.events.
func EventTopic(prefix, aggregateType string) string { return prefix + "." + aggregateType + ".events" }

// EventTopics returns the event topics of every aggregate type, each with the given partition count and the
// project's infinite retention.
func EventTopics(prefix string, partitions int32) []Topic {
	types := []string{schemas.AggregateTypeAccount, schemas.AggregateTypeRoom}
	topics := make([]Topic, 0, len(types))
	for _, t := range types {
		topics = append(topics, Topic{Name: EventTopic(prefix, t), Partitions: partitions})
	}
	return topics
}

// EventSource returns the ce_source of an aggregate type's events, e.g. /chat/room.
func EventSource(prefix, aggregateType string) string { return "/" + prefix + "/" + aggregateType }

// EventRecord returns the record of one event: its aggregate type's topic, the aggregate id as key (so one
// aggregate stays on one partition), the envelope JSON as value and the headers. It fails when the envelope
// cannot be encoded (a payload that is not JSON).
func EventRecord(prefix string, env schemas.Envelope) (*kgo.Record, error) {
	value, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode envelope of %s seq %d: %w", env.AggregateID, env.Seq, err)
	}
	headers := []kgo.RecordHeader{
		{Key: HeaderID, Value: []byte(env.ID)},
		{Key: HeaderType, Value: []byte(env.Type)},
		{Key: HeaderSource, Value: []byte(EventSource(prefix, env.AggregateType))},
		{Key: HeaderSubject, Value: []byte(env.AggregateID)},
		{Key: HeaderTime, Value: []byte(env.OccurredAt.UTC().Format(time.RFC3339Nano))},
		{Key: HeaderSpecVersion, Value: []byte(CloudEventsSpecVersion)},
		{Key: HeaderContentType, Value: []byte("application/json")},
		{Key: HeaderSeq, Value: []byte(strconv.FormatInt(env.Seq, 10))},
	}
	if env.TraceParent != "" {
		headers = append(headers, kgo.RecordHeader{Key: HeaderTraceParent, Value: []byte(env.TraceParent)})
	}
	return &kgo.Record{
		Topic:   EventTopic(prefix, env.AggregateType),
		Key:     []byte(env.AggregateID),
		Value:   value,
		Headers: headers,
	}, nil
}

// Header returns the value of the record's first header named key, and whether there is one.
func Header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}
