package eventstore

import (
	"errors"
	"fmt"
)

var (
	// ErrVersionConflict means the journal is not at the append's ExpectedSeq (another writer appended first);
	// the caller reloads and decides again. Append returns it as a *ConflictError.
	ErrVersionConflict = errors.New("version conflict")
	// ErrIdempotencyKeyExists means a live idempotency record already holds the append's key; nothing was
	// written.
	ErrIdempotencyKeyExists = errors.New("idempotency key exists")
	// ErrEntityExists means an append would create an entity whose key exists already; nothing was written.
	ErrEntityExists = errors.New("entity exists")
	// ErrUnavailable means the store could not be reached, was throttled past the retries, or failed on its
	// side (5xx, timeout); the operation may be retried later.
	ErrUnavailable = errors.New("event store unavailable")
	// ErrTooLarge means the append exceeds a DynamoDB limit (items per transaction, transaction bytes, item
	// bytes) and was refused whole rather than split.
	ErrTooLarge = errors.New("append too large")
	// ErrInvalidAppend means the append request or snapshot is malformed (no events, seqs not contiguous,
	// mismatched ids, a snapshot not at the last seq, missing fields, bad entity keys or attribute names).
	ErrInvalidAppend = errors.New("invalid append")
	// ErrMalformedItem means a stored item lacks an attribute or holds one of the wrong type or format.
	ErrMalformedItem = errors.New("malformed item")
)

// ConflictError is the ErrVersionConflict an Append returns: it names the aggregate, the seq the append expected
// and the seq whose condition failed (an existing event after ExpectedSeq, or ExpectedSeq itself when the
// journal has not reached it).
type ConflictError struct {
	AggregateID string
	ExpectedSeq int64
	Seq         int64
}

// Error describes the conflict.
func (e *ConflictError) Error() string {
	if e.Seq <= e.ExpectedSeq {
		return fmt.Sprintf("append to %s after seq %d: seq %d is not in the journal: %v",
			e.AggregateID, e.ExpectedSeq, e.Seq, ErrVersionConflict)
	}
	return fmt.Sprintf("append to %s after seq %d: seq %d already exists: %v",
		e.AggregateID, e.ExpectedSeq, e.Seq, ErrVersionConflict)
}

// Unwrap makes errors.Is(err, ErrVersionConflict) hold.
func (e *ConflictError) Unwrap() error { return ErrVersionConflict }
