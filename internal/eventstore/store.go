package eventstore

import (
	"context"
	"encoding/json"
	"time"
)

// Record is one stored domain event: its place in the aggregate's stream (AggregateID, Seq), what it is (Type,
// Version), its tracing metadata and its JSON payload.
type Record struct {
	AggregateID   string
	AggregateType string
	Seq           int64
	Type          string
	Version       int
	EventID       string
	OccurredAt    time.Time
	CorrelationID string
	CausationID   string
	CommandID     string
	TraceParent   string
	Payload       json.RawMessage
}

// Snapshot is an aggregate's serialized state as of the event Seq.
type Snapshot struct {
	AggregateID string
	Seq         int64
	State       []byte
}

// IdempotencyRecord is the response recorded for an idempotency key, kept until ExpiresAt (second resolution).
type IdempotencyRecord struct {
	Key         string
	RequestHash string
	Response    []byte
	ExpiresAt   time.Time
}

// AppendRequest is one atomic append: the events after ExpectedSeq and, optionally, a snapshot and an
// idempotency record written in the same transaction.
type AppendRequest struct {
	AggregateID string
	// ExpectedSeq is the aggregate's seq before the append; Events carry ExpectedSeq+1, +2, ….
	ExpectedSeq int64
	Events      []Record
	// Snapshot, when set, must be of the last appended event's seq.
	Snapshot *Snapshot
	// Idempotency, when set, is refused with ErrIdempotencyKeyExists while a record with its key is live.
	Idempotency *IdempotencyRecord
}

// Store is the event journal with its snapshots and idempotency records; implementations are safe for
// concurrent use.
type Store interface {
	// Append writes the request all or nothing. It returns, wrapped: ErrInvalidAppend for a malformed request,
	// ErrTooLarge past DynamoDB's transaction limits, ErrVersionConflict (a *ConflictError) when the journal is
	// not at ExpectedSeq, ErrIdempotencyKeyExists when a live record holds the key, ErrUnavailable when the
	// store cannot be reached, and the context's error when ctx ends first.
	Append(ctx context.Context, req AppendRequest) error
	// Load returns the aggregate's events with seq > afterSeq in ascending order, none for an unknown aggregate;
	// it returns ErrUnavailable (wrapped) when the store cannot be reached.
	Load(ctx context.Context, aggregateID string, afterSeq int64) ([]Record, error)
	// LatestSnapshot returns the aggregate's newest snapshot, or nil, nil when there is none; it returns
	// ErrUnavailable (wrapped) when the store cannot be reached.
	LatestSnapshot(ctx context.Context, aggregateID string) (*Snapshot, error)
	// Idempotency returns the live record under key, or nil, nil when there is none or it expired; it returns
	// ErrUnavailable (wrapped) when the store cannot be reached.
	Idempotency(ctx context.Context, key string) (*IdempotencyRecord, error)
}
