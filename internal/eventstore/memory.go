package eventstore

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Memory is an in-memory Store for tests and local runs. It keeps DynamoDB's semantics (the same validation,
// limits, conflicts, entity conditions and idempotency expiry), so the same contract suite passes against both.
type Memory struct {
	now func() time.Time

	mu          sync.RWMutex
	journal     map[string][]Record
	snapshots   map[string]Snapshot
	idempotency map[string]IdempotencyRecord
	entities    map[string]map[string]string
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
		entities:    map[string]map[string]string{},
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
	for _, e := range req.Entities {
		if _, ok := m.entities[e.Key]; ok && e.Create {
			return fmt.Errorf("append to %s: entity %q: %w", req.AggregateID, e.Key, ErrEntityExists)
		}
	}
	stored := m.journal[req.AggregateID]
	switch n := int64(len(stored)); {
	case n > req.ExpectedSeq:
		return &ConflictError{AggregateID: req.AggregateID, ExpectedSeq: req.ExpectedSeq, Seq: req.ExpectedSeq + 1}
	case n < req.ExpectedSeq:
		return &ConflictError{AggregateID: req.AggregateID, ExpectedSeq: req.ExpectedSeq, Seq: req.ExpectedSeq}
	}
	if s := req.Snapshot; s != nil && !m.snapshotOlder(s.AggregateID, s.Seq) {
		// Only a snapshot saved ahead of the journal gets here; DynamoDB's pointer condition fails alike.
		return &ConflictError{AggregateID: req.AggregateID, ExpectedSeq: req.ExpectedSeq, Seq: req.ExpectedSeq + 1}
	}
	m.journal[req.AggregateID] = append(stored, events...)
	if s := req.Snapshot; s != nil {
		m.putSnapshot(*s)
	}
	for _, e := range req.Entities {
		if m.entities[e.Key] == nil {
			m.entities[e.Key] = make(map[string]string, len(e.Set))
		}
		maps.Copy(m.entities[e.Key], e.Set)
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

// LoadUpTo implements Store.
func (m *Memory) LoadUpTo(ctx context.Context, aggregateID string, afterSeq int64, max int) ([]Record, bool, error) {
	if max < 1 {
		return nil, false, fmt.Errorf("load %s: at most %d events: %w", aggregateID, max, ErrInvalidAppend)
	}
	all, err := m.Load(ctx, aggregateID, afterSeq)
	if err != nil || len(all) <= max {
		return all, err == nil, err
	}
	return all[:max], false, nil
}

// Event implements Store.
func (m *Memory) Event(ctx context.Context, aggregateID string, seq int64) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load %s seq %d: %w", aggregateID, seq, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	stored := m.journal[aggregateID]
	if seq < 1 || seq > int64(len(stored)) {
		return nil, nil
	}
	r := cloneRecord(stored[seq-1])
	return &r, nil
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

// SaveSnapshot implements Store.
func (m *Memory) SaveSnapshot(ctx context.Context, s Snapshot) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save snapshot of %s: %w", s.AggregateID, err)
	}
	if err := checkSnapshot(s); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snapshotOlder(s.AggregateID, s.Seq) {
		m.putSnapshot(s)
	}
	return nil
}

// snapshotOlder reports whether aggregateID has no snapshot or one older than seq: DynamoDB's pointer condition.
func (m *Memory) snapshotOlder(aggregateID string, seq int64) bool {
	old, ok := m.snapshots[aggregateID]
	return !ok || old.Seq < seq
}

func (m *Memory) putSnapshot(s Snapshot) {
	m.snapshots[s.AggregateID] = Snapshot{AggregateID: s.AggregateID, Seq: s.Seq, State: bytes.Clone(s.State)}
}

// Entity implements Store.
func (m *Memory) Entity(ctx context.Context, key string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load entity %q: %w", key, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return maps.Clone(m.entities[key]), nil
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
