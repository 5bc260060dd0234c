package kafka_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/schemas"
)

func envelope() schemas.Envelope {
	return schemas.Envelope{
		ID: "01J0", Type: schemas.TypeMessagePosted, Version: 1, AggregateType: schemas.AggregateTypeRoom,
		AggregateID: "room-1", Seq: 42, OccurredAt: time.Date(2026, 11, 26, 1, 2, 3, 456, time.FixedZone("JST", 9*3600)),
		CorrelationID: "c", CausationID: "d", CommandID: "e",
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		Payload:     json.RawMessage(`{"message_id":"m","author_id":"a","text":"こんにちは"}`),
	}
}

func TestEventRecord(t *testing.T) {
	t.Parallel()
	env := envelope()
	rec, err := kafka.NewEventEncoder("chat").Record(env)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Topic != "chat.room.events" || string(rec.Key) != "room-1" {
		t.Errorf("topic %q key %q, want chat.room.events and the aggregate id", rec.Topic, rec.Key)
	}
	want, _ := json.Marshal(env)
	if string(rec.Value) != string(want) {
		t.Errorf("value =\n%s\nwant the envelope JSON\n%s", rec.Value, want)
	}
	headers := map[string]string{}
	for _, h := range rec.Headers {
		if _, dup := headers[h.Key]; dup {
			t.Errorf("header %s twice", h.Key)
		}
		headers[h.Key] = string(h.Value)
	}
	for key, value := range map[string]string{
		kafka.HeaderID: "01J0", kafka.HeaderType: "MessagePosted", kafka.HeaderSource: "/chat/room",
		kafka.HeaderSubject: "room-1", kafka.HeaderTime: "2026-11-25T16:02:03.000000456Z",
		kafka.HeaderSpecVersion: "1.0", kafka.HeaderContentType: "application/json", kafka.HeaderSeq: "42",
		kafka.HeaderTraceParent: env.TraceParent,
	} {
		if headers[key] != value {
			t.Errorf("header %s = %q, want %q", key, headers[key], value)
		}
	}
	if len(headers) != 9 {
		t.Errorf("%d headers, want 9: %v", len(headers), headers)
	}
	if got, ok := kafka.Header(rec, kafka.HeaderSeq); !ok || got != "42" {
		t.Errorf("Header(seq) = %q, %v", got, ok)
	}
}

func TestEventRecordWithoutTraceContext(t *testing.T) {
	t.Parallel()
	env := envelope()
	env.TraceParent = ""
	rec, err := kafka.NewEventEncoder("chat").Record(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := kafka.Header(rec, kafka.HeaderTraceParent); ok {
		t.Error("an empty traceparent header was written; W3C trace context forbids it")
	}
}

func TestEventRecordRefusals(t *testing.T) {
	t.Parallel()
	enc := kafka.NewEventEncoder("chat")
	env := envelope()
	env.AggregateType = "planet"
	if _, err := enc.Record(env); !errors.Is(err, kafka.ErrNoTopic) {
		t.Errorf("unknown aggregate type: %v, want ErrNoTopic", err)
	}
	env = envelope()
	env.Payload = json.RawMessage(`{"text":`)
	if _, err := enc.Record(env); err == nil {
		t.Error("a payload that is not JSON was encoded")
	}
}

func TestEventTopics(t *testing.T) {
	t.Parallel()
	topics := kafka.EventTopics("chat", 12)
	if len(topics) != 2 || topics[0].Name != "chat.account.events" || topics[1].Name != "chat.room.events" ||
		topics[0].Partitions != 12 {
		t.Errorf("EventTopics = %+v", topics)
	}
}
