package eventstore_test

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

func sampleRecord() eventstore.Record {
	return eventstore.Record{
		AggregateID: "room-1", AggregateType: "room", Seq: 42, Type: "MessagePosted", Version: 2, EventID: "evt-42",
		OccurredAt: time.Date(2026, 11, 25, 21, 0, 0, 5, time.FixedZone("JST", 9*60*60)), CorrelationID: "corr",
		CausationID: "cause", CommandID: "cmd", TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		Payload: []byte(`{"text":"こんにちは"}`),
	}
}

func TestJournalItemRoundTrip(t *testing.T) {
	t.Parallel()
	rec := sampleRecord()
	item := eventstore.JournalItem(rec)
	if got := item[eventstore.AttrOccurredAt].(*types.AttributeValueMemberS).Value; got != "2026-11-25T12:00:00.000000005Z" {
		t.Errorf("occurred_at = %q, want RFC 3339 nanoseconds in UTC", got)
	}
	back, err := eventstore.RecordFromItem(item)
	if err != nil {
		t.Fatalf("RecordFromItem: %v", err)
	}
	if !back.OccurredAt.Equal(rec.OccurredAt) || back.OccurredAt.Location() != time.UTC {
		t.Errorf("occurred at %v, want %v in UTC", back.OccurredAt, rec.OccurredAt)
	}
	back.OccurredAt, rec.OccurredAt = time.Time{}, time.Time{}
	if string(back.Payload) != string(rec.Payload) {
		t.Errorf("payload %s, want %s", back.Payload, rec.Payload)
	}
	back.Payload, rec.Payload = nil, nil
	if back.AggregateID != rec.AggregateID || back.Seq != rec.Seq || back.Version != rec.Version ||
		back.Type != rec.Type || back.EventID != rec.EventID || back.AggregateType != rec.AggregateType ||
		back.CorrelationID != rec.CorrelationID || back.CausationID != rec.CausationID ||
		back.CommandID != rec.CommandID || back.TraceParent != rec.TraceParent {
		t.Errorf("RecordFromItem = %+v, want %+v", back, rec)
	}
}

func TestRecordFromItemNamesTheBadAttribute(t *testing.T) {
	t.Parallel()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	tests := []struct {
		name  string
		attr  string
		value types.AttributeValue // nil deletes the attribute
	}{
		{"missing aid", "aid", nil},
		{"empty aid", "aid", s("")},
		{"aid a number", "aid", n("1")},
		{"missing seq", "seq", nil},
		{"seq a string", "seq", s("1")},
		{"seq not an integer", "seq", n("1.5")},
		{"missing aggregate type", "aggregate_type", nil},
		{"missing type", "type", nil},
		{"missing version", "version", nil},
		{"version zero", "version", n("0")},
		{"missing event id", "event_id", nil},
		{"missing occurred at", "occurred_at", nil},
		{"occurred at not a time", "occurred_at", s("yesterday")},
		{"missing payload", "payload", nil},
		{"payload binary", "payload", &types.AttributeValueMemberB{Value: []byte("{}")}},
		{"traceparent a number", "traceparent", n("1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			item := maps.Clone(eventstore.JournalItem(sampleRecord()))
			if tt.value == nil {
				delete(item, tt.attr)
			} else {
				item[tt.attr] = tt.value
			}
			_, err := eventstore.RecordFromItem(item)
			if !errors.Is(err, eventstore.ErrMalformedItem) {
				t.Fatalf("got %v, want ErrMalformedItem", err)
			}
			if !strings.Contains(err.Error(), "attribute "+tt.attr+":") {
				t.Errorf("error %q does not name attribute %s", err, tt.attr)
			}
		})
	}
}

func TestRecordFromItemOptionalAttributes(t *testing.T) {
	t.Parallel()
	item := eventstore.JournalItem(sampleRecord())
	for _, a := range []string{eventstore.AttrCorrelationID, eventstore.AttrCausationID, eventstore.AttrCommandID, eventstore.AttrTraceParent} {
		delete(item, a)
	}
	rec, err := eventstore.RecordFromItem(item)
	if err != nil {
		t.Fatalf("RecordFromItem without the optional attributes: %v", err)
	}
	if rec.CorrelationID != "" || rec.CausationID != "" || rec.CommandID != "" || rec.TraceParent != "" || rec.Seq != 42 {
		t.Errorf("RecordFromItem = %+v, want empty optional ids", rec)
	}
}

// TestDecodeItemReusesThePayloadMemory decodes item after item into one Record: each decodes as RecordFromItem
// does, the payload lands in the memory the previous one left when it fits, and a payload that does not fit
// is copied, never shared with the item.
func TestDecodeItemReusesThePayloadMemory(t *testing.T) {
	t.Parallel()
	var r eventstore.Record
	long := sampleRecord()
	long.Payload = []byte(`{"text":"a longer text than the others, so that it comes first"}`)
	for i, rec := range []eventstore.Record{long, sampleRecord(), sampleRecord()} {
		rec.Seq = int64(i + 1)
		item := eventstore.JournalItem(rec)
		before := r.Payload
		if err := eventstore.DecodeItem(item, &r); err != nil {
			t.Fatalf("DecodeItem %d: %v", i, err)
		}
		want, err := eventstore.RecordFromItem(item)
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq != want.Seq || string(r.Payload) != string(want.Payload) || !r.OccurredAt.Equal(want.OccurredAt) {
			t.Errorf("DecodeItem %d = %+v, want %+v", i, r, want)
		}
		if i > 0 && &r.Payload[0] != &before[0] {
			t.Errorf("DecodeItem %d allocated a new payload although the previous one had room", i)
		}
	}
	item := eventstore.JournalItem(sampleRecord())
	delete(item, eventstore.AttrPayload)
	if err := eventstore.DecodeItem(item, &r); !errors.Is(err, eventstore.ErrMalformedItem) {
		t.Errorf("DecodeItem without a payload = %v, want ErrMalformedItem", err)
	}
}
