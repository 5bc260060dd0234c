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

// EntityWrite is one change to an entity: a small record of its own under a key unique across aggregates (a
// room's message), written in the same transaction as the events that change it.
type EntityWrite struct {
	Key string
	// Set holds the attributes to set; attributes not named keep their values.
	Set map[string]string
	// Create makes the append fail with ErrEntityExists when an entity with Key exists already.
	Create bool
}

// AppendRequest is one atomic append: the events after ExpectedSeq and, optionally, a snapshot, changes to
// entities and an idempotency record written in the same transaction.
type AppendRequest struct {
	AggregateID string
	// ExpectedSeq is the aggregate's seq before the append; Events carry ExpectedSeq+1, +2, ….
	ExpectedSeq int64
	Events      []Record
	// Snapshot, when set, must be of the last appended event's seq.
	Snapshot *Snapshot
	// Entities are written atomically with the events, each key at most once.
	Entities []EntityWrite
	// Idempotency, when set, is refused with ErrIdempotencyKeyExists while a record with its key is live.
	Idempotency *IdempotencyRecord
}

// Store is the event journal with its snapshots, entities and idempotency records; implementations are safe for
// concurrent use.
type Store interface {
	// Append writes the request all or nothing. It returns, wrapped: ErrInvalidAppend for a malformed request,
	// ErrTooLarge past DynamoDB's transaction limits, ErrIdempotencyKeyExists when a live record holds the key,
	// ErrEntityExists when an entity to create exists, ErrVersionConflict (a *ConflictError) when the journal is
	// not at ExpectedSeq (the first of these that holds, in this order), ErrUnavailable when the store cannot be
	// reached, and the context's error when ctx ends first.
	Append(ctx context.Context, req AppendRequest) error
	// Load returns the aggregate's events with seq > afterSeq in ascending order, none for an unknown aggregate;
	// it returns ErrUnavailable (wrapped) when the store cannot be reached.
	Load(ctx context.Context, aggregateID string, afterSeq int64) ([]Record, error)
	// LoadUpTo returns at most max (≥ 1) of the aggregate's events with seq > afterSeq, in ascending order, and
	// complete true when no event follows them; it returns ErrUnavailable (wrapped) when the store cannot be
	// reached.
	LoadUpTo(ctx context.Context, aggregateID string, afterSeq int64, max int) (records []Record, complete bool, err error)
	// Event returns the aggregate's event seq, read strongly consistently, or nil, nil when there is none; it
	// returns ErrUnavailable (wrapped) when the store cannot be reached.
	Event(ctx context.Context, aggregateID string, seq int64) (*Record, error)
	// LatestSnapshot returns the aggregate's newest snapshot, or nil, nil when there is none; it returns
	// ErrUnavailable (wrapped) when the store cannot be reached.
	LatestSnapshot(ctx context.Context, aggregateID string) (*Snapshot, error)
	// Idempotency returns the live record under key, or nil, nil when there is none or it expired; it returns
	// ErrUnavailable (wrapped) when the store cannot be reached.
	Idempotency(ctx context.Context, key string) (*IdempotencyRecord, error)
	// Entity returns the attributes of the entity under key read strongly consistently, or nil, nil when there
	// is none; it returns ErrUnavailable (wrapped) when the store cannot be reached.
	Entity(ctx context.Context, key string) (map[string]string, error)
	// SaveSnapshot stores s outside any append (large state to S3 first under a fresh immutable key, then the
	// pointer put conditionally on an older seq); a pointer already at s.Seq or newer is left as it is and
	// SaveSnapshot returns nil. It returns ErrInvalidAppend (wrapped) for a malformed snapshot, ErrUnavailable
	// (wrapped) when the store cannot be reached, and the context's error when ctx ends first.
	SaveSnapshot(ctx context.Context, s Snapshot) error
}
