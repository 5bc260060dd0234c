package eventstore

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The journal item's attribute names: the contract the relay reads from the stream's NEW_IMAGE.
const (
	// AttrAggregateID is the aggregate id (S), the journal's partition key.
	AttrAggregateID = "aid"
	// AttrSeq is the event's seq within its aggregate (N), the journal's sort key.
	AttrSeq = "seq"
	// AttrAggregateType is the aggregate type (S), e.g. "room".
	AttrAggregateType = "aggregate_type"
	// AttrType is the event type (S), e.g. "MessagePosted".
	AttrType = "type"
	// AttrVersion is the event's schema version (N).
	AttrVersion = "version"
	// AttrEventID is the event's unique id (S).
	AttrEventID = "event_id"
	// AttrOccurredAt is when the event occurred (S, RFC 3339 with nanoseconds, UTC).
	AttrOccurredAt = "occurred_at"
	// AttrCorrelationID is the correlation id (S, may be empty).
	AttrCorrelationID = "correlation_id"
	// AttrCausationID is the causation id (S, may be empty).
	AttrCausationID = "causation_id"
	// AttrCommandID is the id of the command that produced the event (S, may be empty).
	AttrCommandID = "command_id"
	// AttrTraceParent is the W3C traceparent (S, may be empty).
	AttrTraceParent = "traceparent"
	// AttrPayload is the event's payload as JSON text (S).
	AttrPayload = "payload"
)

// JournalItem returns r as a journal item, the inverse of RecordFromItem.
func JournalItem(r Record) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrAggregateID:   &types.AttributeValueMemberS{Value: r.AggregateID},
		AttrSeq:           &types.AttributeValueMemberN{Value: strconv.FormatInt(r.Seq, 10)},
		AttrAggregateType: &types.AttributeValueMemberS{Value: r.AggregateType},
		AttrType:          &types.AttributeValueMemberS{Value: r.Type},
		AttrVersion:       &types.AttributeValueMemberN{Value: strconv.Itoa(r.Version)},
		AttrEventID:       &types.AttributeValueMemberS{Value: r.EventID},
		AttrOccurredAt:    &types.AttributeValueMemberS{Value: formatTime(r.OccurredAt)},
		AttrCorrelationID: &types.AttributeValueMemberS{Value: r.CorrelationID},
		AttrCausationID:   &types.AttributeValueMemberS{Value: r.CausationID},
		AttrCommandID:     &types.AttributeValueMemberS{Value: r.CommandID},
		AttrTraceParent:   &types.AttributeValueMemberS{Value: r.TraceParent},
		AttrPayload:       &types.AttributeValueMemberS{Value: string(r.Payload)},
	}
}

// RecordFromItem turns a journal item back into a Record. It returns ErrMalformedItem (wrapped, naming the
// attribute) when a required attribute is missing or of the wrong type or format; the optional string
// attributes (correlation, causation and command ids, traceparent) read as empty when missing.
func RecordFromItem(item map[string]types.AttributeValue) (Record, error) {
	var r Record
	if err := DecodeItem(item, &r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// DecodeItem is RecordFromItem into *r, with the payload copied into r.Payload's memory: a caller done with
// each payload before it decodes the next item (the relay, which encodes each event at once) decodes without
// allocating. It returns RecordFromItem's errors, and leaves *r partly set when it fails.
func DecodeItem(item map[string]types.AttributeValue, r *Record) error {
	var err error
	if r.AggregateID, err = stringAttr(item, AttrAggregateID, true); err != nil {
		return err
	}
	if r.Seq, err = intAttr(item, AttrSeq); err != nil {
		return err
	}
	if r.AggregateType, err = stringAttr(item, AttrAggregateType, true); err != nil {
		return err
	}
	if r.Type, err = stringAttr(item, AttrType, true); err != nil {
		return err
	}
	version, err := intAttr(item, AttrVersion)
	if err != nil {
		return err
	}
	if version < 1 || version > int64(^uint32(0)>>1) {
		return malformed(AttrVersion, fmt.Sprintf("schema version %d is out of range", version))
	}
	r.Version = int(version)
	if r.EventID, err = stringAttr(item, AttrEventID, true); err != nil {
		return err
	}
	occurred, err := stringAttr(item, AttrOccurredAt, true)
	if err != nil {
		return err
	}
	if r.OccurredAt, err = time.Parse(time.RFC3339Nano, occurred); err != nil {
		return malformed(AttrOccurredAt, "not an RFC 3339 time")
	}
	r.OccurredAt = r.OccurredAt.UTC()
	if r.CorrelationID, err = stringAttr(item, AttrCorrelationID, false); err != nil {
		return err
	}
	if r.CausationID, err = stringAttr(item, AttrCausationID, false); err != nil {
		return err
	}
	if r.CommandID, err = stringAttr(item, AttrCommandID, false); err != nil {
		return err
	}
	if r.TraceParent, err = stringAttr(item, AttrTraceParent, false); err != nil {
		return err
	}
	payload, err := stringAttr(item, AttrPayload, true)
	if err != nil {
		return err
	}
	r.Payload = append(r.Payload[:0], payload...)
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func malformed(attr, what string) error {
	return fmt.Errorf("attribute %s: %s: %w", attr, what, ErrMalformedItem)
}

// stringAttr reads the S attribute name; a required one must be present and non-empty.
func stringAttr(item map[string]types.AttributeValue, name string, required bool) (string, error) {
	av, ok := item[name]
	if !ok {
		if required {
			return "", malformed(name, "missing")
		}
		return "", nil
	}
	s, ok := av.(*types.AttributeValueMemberS)
	if !ok {
		return "", malformed(name, "not a string")
	}
	if required && s.Value == "" {
		return "", malformed(name, "empty")
	}
	return s.Value, nil
}

// intAttr reads the N attribute name as an integer.
func intAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	av, ok := item[name]
	if !ok {
		return 0, malformed(name, "missing")
	}
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		return 0, malformed(name, "not a number")
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, malformed(name, fmt.Sprintf("%q is not an integer", n.Value))
	}
	return v, nil
}
