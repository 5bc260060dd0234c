package eventstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory is an in-memory Store for tests and local runs. It keeps DynamoDB's semantics (the same validation,
// limits, conflicts and idempotency expiry), so the same contract suite passes against both.
type Memory struct {
	now func() time.Time

	mu          sync.RWMutex
	journal     map[string][]Record
	snapshots   map[string]Snapshot
	idempotency map[string]IdempotencyRecord
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store on the system clock.
func NewMemory() *Memory { return NewMemoryWithClock(time.Now) }

// NewMemoryWithClock returns an empty in-memory store that reads the time, for idempotency expiry, from now
// (time.Now when nil).
func NewMemoryWithClock(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{
		now:         now,
		journal:     map[string][]Record{},
		snapshots:   map[string]Snapshot{},
		idempotency: map[string]IdempotencyRecord{},
	}
}

// Append implements Store.
func (m *Memory) Append(ctx context.Context, req AppendRequest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append to %s: %w", req.AggregateID, err)
	}
	if err := checkAppend(req, DefaultInlineSnapshotMaxBytes); err != nil {
		return err
	}
	events := make([]Record, len(req.Events))
	for i, ev := range req.Events {
		events[i] = cloneRecord(ev)
	}
	now := m.now()

	m.mu.Lock()
	defer m.mu.Unlock()
	if r := req.Idempotency; r != nil {
		if old, ok := m.idempotency[r.Key]; ok && !expired(old.ExpiresAt, now) {
			return fmt.Errorf("append to %s: key %q: %w", req.AggregateID, r.Key, ErrIdempotencyKeyExists)
		}
	}
	stored := m.journal[req.AggregateID]
	switch n := int64(len(stored)); {
	case n > req.ExpectedSeq:
		return &ConflictError{AggregateID: req.AggregateID, ExpectedSeq: req.ExpectedSeq, Seq: req.ExpectedSeq + 1}
	case n < req.ExpectedSeq:
		return &ConflictError{AggregateID: req.AggregateID, ExpectedSeq: req.ExpectedSeq, Seq: req.ExpectedSeq}
	}
	m.journal[req.AggregateID] = append(stored, events...)
	if s := req.Snapshot; s != nil {
		m.snapshots[req.AggregateID] = Snapshot{AggregateID: s.AggregateID, Seq: s.Seq, State: bytes.Clone(s.State)}
	}
	if r := req.Idempotency; r != nil {
		m.idempotency[r.Key] = IdempotencyRecord{
			Key: r.Key, RequestHash: r.RequestHash, Response: bytes.Clone(r.Response),
			ExpiresAt: time.Unix(r.ExpiresAt.Unix(), 0).UTC(),
		}
	}
	return nil
}

// Load implements Store.
func (m *Memory) Load(ctx context.Context, aggregateID string, afterSeq int64) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", aggregateID, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	stored := m.journal[aggregateID]
	from := int(min(max(afterSeq, 0), int64(len(stored))))
	out := make([]Record, 0, len(stored)-from)
	for _, r := range stored[from:] {
		out = append(out, cloneRecord(r))
	}
	return out, nil
}

// LatestSnapshot implements Store.
func (m *Memory) LatestSnapshot(ctx context.Context, aggregateID string) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load snapshot of %s: %w", aggregateID, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.snapshots[aggregateID]
	if !ok {
		return nil, nil
	}
	s.State = bytes.Clone(s.State)
	return &s, nil
}

// Idempotency implements Store.
func (m *Memory) Idempotency(ctx context.Context, key string) (*IdempotencyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load idempotency key: %w", err)
	}
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.idempotency[key]
	if !ok || expired(r.ExpiresAt, now) {
		return nil, nil
	}
	r.Response = bytes.Clone(r.Response)
	return &r, nil
}

// expired reports whether a record expiring at expiresAt is dead at now. Both stores compare whole epoch
// seconds, as DynamoDB's TTL attribute holds, and a record lives through its expiry second.
func expired(expiresAt, now time.Time) bool { return expiresAt.Unix() < now.Unix() }

// cloneRecord copies r so that neither the caller nor the store sees the other's later changes, normalizing the
// time as DynamoDB stores it (UTC, no monotonic reading).
func cloneRecord(r Record) Record {
	r.OccurredAt = r.OccurredAt.UTC().Round(0)
	r.Payload = slices.Clone(r.Payload)
	return r
}
