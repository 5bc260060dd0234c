package schemas

import (
	"encoding/json"
	"time"
)

// Envelope is one published event: the metadata every consumer needs around a payload whose shape is given by
// Type and Version. Its JSON form is the envelope contract (json/envelope.schema.json).
type Envelope struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Version       int             `json:"version"`
	AggregateType string          `json:"aggregate_type"`
	AggregateID   string          `json:"aggregate_id"`
	Seq           int64           `json:"seq"`
	OccurredAt    time.Time       `json:"occurred_at"`
	CorrelationID string          `json:"correlation_id"`
	CausationID   string          `json:"causation_id"`
	CommandID     string          `json:"command_id"`
	TraceParent   string          `json:"traceparent"`
	Payload       json.RawMessage `json:"payload"`
}

// MarshalJSON encodes the envelope with occurred_at in UTC, as the contract requires, whatever the location of
// OccurredAt; it fails only when the payload is not valid JSON or the year is outside 0–9999.
func (e Envelope) MarshalJSON() ([]byte, error) {
	type plain Envelope // no methods: no recursion
	p := plain(e)
	p.OccurredAt = p.OccurredAt.UTC()
	return json.Marshal(p)
}
