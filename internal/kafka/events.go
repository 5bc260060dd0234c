package kafka

import (
	"errors"
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
	topics := make([]Topic, 0, len(aggregateTypes))
	for _, t := range aggregateTypes {
		topics = append(topics, Topic{Name: EventTopic(prefix, t), Partitions: partitions})
	}
	return topics
}

// aggregateTypes are the aggregate types that have an event topic.
var aggregateTypes = []string{schemas.AggregateTypeAccount, schemas.AggregateTypeRoom}

// EventSource returns the ce_source of an aggregate type's events, e.g. /chat/room.
func EventSource(prefix, aggregateType string) string { return "/" + prefix + "/" + aggregateType }

// ErrNoTopic is EventEncoder's answer to an event of an aggregate type that has no topic.
var ErrNoTopic = errors.New("no event topic for the aggregate type")

// EventEncoder turns envelopes into the Kafka records of one topic prefix. It is safe for concurrent use.
type EventEncoder struct {
	prefix string
	byType map[string]topicOf
}

type topicOf struct {
	topic  string
	source []byte
}

// NewEventEncoder returns the encoder of the event topics under prefix.
func NewEventEncoder(prefix string) *EventEncoder {
	e := &EventEncoder{prefix: prefix, byType: map[string]topicOf{}}
	for _, t := range aggregateTypes {
		e.byType[t] = topicOf{topic: EventTopic(prefix, t), source: []byte(EventSource(prefix, t))}
	}
	return e
}

// eventRecord is a record and its headers in one allocation.
type eventRecord struct {
	rec     kgo.Record
	headers [9]kgo.RecordHeader
}

// Record returns the record of one event: its aggregate type's topic, the aggregate id as key (so one aggregate
// stays on one partition), the envelope JSON as value and the headers. It fails with ErrNoTopic for an unknown
// aggregate type, and when the envelope cannot be encoded (a payload that is not JSON).
//
// A replay encodes millions of these: the value and the header values share one buffer, and the record and
// its headers another.
func (e *EventEncoder) Record(env schemas.Envelope) (*kgo.Record, error) {
	t, ok := e.byType[env.AggregateType]
	if !ok {
		return nil, fmt.Errorf("event %s of %s: %w: %q", env.ID, env.AggregateID, ErrNoTopic, env.AggregateType)
	}
	buf, err := env.AppendJSON(make([]byte, 0, 448+len(env.Payload)+2*len(env.ID)+len(env.AggregateID)+
		len(env.Type)+len(env.TraceParent)))
	if err != nil {
		return nil, err
	}
	// The header values follow the JSON in the same array; each is a full slice expression of its own span.
	value := buf[:len(buf):len(buf)]
	appended := func(from int) []byte { return buf[from:len(buf):len(buf)] }
	from := len(buf)
	buf = append(buf, env.ID...)
	id := appended(from)
	from = len(buf)
	buf = append(buf, env.Type...)
	typ := appended(from)
	from = len(buf)
	buf = append(buf, env.AggregateID...)
	subject := appended(from)
	from = len(buf)
	buf = env.OccurredAt.UTC().AppendFormat(buf, time.RFC3339Nano)
	at := appended(from)
	from = len(buf)
	buf = strconv.AppendInt(buf, env.Seq, 10)
	seq := appended(from)
	from = len(buf)
	buf = append(buf, env.TraceParent...)
	traceParent := appended(from)
	er := &eventRecord{}
	er.headers = [9]kgo.RecordHeader{
		{Key: HeaderID, Value: id},
		{Key: HeaderType, Value: typ},
		{Key: HeaderSource, Value: t.source},
		{Key: HeaderSubject, Value: subject},
		{Key: HeaderTime, Value: at},
		{Key: HeaderSpecVersion, Value: specVersion},
		{Key: HeaderContentType, Value: contentTypeJSON},
		{Key: HeaderSeq, Value: seq},
		{Key: HeaderTraceParent, Value: traceParent},
	}
	n := len(er.headers)
	if env.TraceParent == "" {
		n-- // no empty trace context: W3C forbids it
	}
	er.rec = kgo.Record{Topic: t.topic, Key: subject, Value: value, Headers: er.headers[:n]}
	return &er.rec, nil
}

// Header values shared by every record; producers only read them.
var (
	specVersion     = []byte(CloudEventsSpecVersion)
	contentTypeJSON = []byte("application/json")
)

// Header returns the value of the record's first header named key, and whether there is one.
func Header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}
