package kafka

import (
	"errors"
	"fmt"
	"slices"

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
		e.byType[t] = topicOf{topic: EventTopic(prefix, t), source: full([]byte(EventSource(prefix, t)))}
	}
	return e
}

// Record returns the record of one event: its aggregate type's topic, the aggregate id as key (so one aggregate
// stays on one partition), the envelope JSON as value and the headers. It fails with ErrNoTopic for an unknown
// aggregate type, and when the envelope cannot be encoded (a payload that is not JSON).
func (e *EventEncoder) Record(env schemas.Envelope) (*kgo.Record, error) {
	return e.RecordIn(nil, &env)
}

// RecordIn is Record with the record's memory taken from arena (nil: allocated for this record alone, two
// allocations). The key and the header values that repeat envelope fields are slices of the value's bytes,
// copied apart only when the JSON had to escape them.
func (e *EventEncoder) RecordIn(arena *RecordArena, env *schemas.Envelope) (*kgo.Record, error) {
	t, ok := e.byType[env.AggregateType]
	if !ok {
		return nil, fmt.Errorf("event %s of %s: %w: %q", env.ID, env.AggregateID, ErrNoTopic, env.AggregateType)
	}
	// Room for the JSON of plain strings: the field names, quotes and punctuation take about 200 bytes, a time
	// 35, a seq 20; escaped strings and their header copies may outgrow it, and append then moves the buffer.
	need := 288 + len(env.Payload) + len(env.ID) + len(env.Type) + len(env.AggregateType) + len(env.AggregateID) +
		len(env.CorrelationID) + len(env.CausationID) + len(env.CommandID) + len(env.TraceParent)
	var (
		buf []byte
		er  *eventRecord
	)
	if arena != nil {
		buf, er = arena.buffer(need), arena.record()
	} else {
		buf, er = make([]byte, 0, need), &eventRecord{}
	}
	var sp schemas.EnvelopeSpans
	buf, err := env.AppendJSONSpans(buf, &sp)
	if err != nil {
		return nil, err
	}
	// The escaped fields' header copies go after the JSON; room is made for them first, so that the appends
	// below never move the bytes the value and the other headers are slices of.
	extra := copied(sp.ID, env.ID) + copied(sp.Type, env.Type) + copied(sp.AggregateID, env.AggregateID) +
		copied(sp.TraceParent, env.TraceParent)
	buf = slices.Grow(buf, extra)
	value := buf[:len(buf):len(buf)]
	// A header value is a full slice expression of its own span, so that no append through it can reach the
	// bytes after it.
	header := func(s schemas.Span, raw string) []byte {
		if s.Verbatim {
			return buf[s.Start:s.End:s.End]
		}
		from := len(buf)
		buf = append(buf, raw...)
		return buf[from:len(buf):len(buf)]
	}
	id := header(sp.ID, env.ID)
	typ := header(sp.Type, env.Type)
	subject := header(sp.AggregateID, env.AggregateID)
	at := header(sp.OccurredAt, "")
	seq := header(sp.Seq, "")
	traceParent := header(sp.TraceParent, env.TraceParent)
	if arena != nil {
		arena.used(buf)
	}
	// The whole struct is assigned: an arena's slot may hold an earlier record, whose partition, offset and
	// timestamp must not carry over.
	*er = eventRecord{headers: [9]kgo.RecordHeader{
		{Key: HeaderID, Value: id},
		{Key: HeaderType, Value: typ},
		{Key: HeaderSource, Value: t.source},
		{Key: HeaderSubject, Value: subject},
		{Key: HeaderTime, Value: at},
		{Key: HeaderSpecVersion, Value: specVersion},
		{Key: HeaderContentType, Value: contentTypeJSON},
		{Key: HeaderSeq, Value: seq},
		{Key: HeaderTraceParent, Value: traceParent},
	}}
	n := len(er.headers)
	if env.TraceParent == "" {
		n-- // no empty trace context: W3C forbids it
	}
	er.rec = kgo.Record{Topic: t.topic, Key: subject, Value: value, Headers: er.headers[:n]}
	return &er.rec, nil
}

// copied returns how many bytes the header copy of field v takes: none when its span in the JSON is v itself.
func copied(s schemas.Span, v string) int {
	if s.Verbatim {
		return 0
	}
	return len(v)
}

// Header values shared by every record; producers only read them.
var (
	specVersion     = full([]byte(CloudEventsSpecVersion))
	contentTypeJSON = full([]byte("application/json"))
)

// full returns b without room past its end, so that no append through a shared header value writes into it.
func full(b []byte) []byte { return b[:len(b):len(b)] }

// Header returns the value of the record's first header named key, and whether there is one.
func Header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}
