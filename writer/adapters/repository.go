// Package adapters connects the writer's application layer to infrastructure: the event-sourced repositories on
// the journal (internal/eventstore), with the hot aggregate cache and snapshots, and the id source.
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/schemas"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// Aggregate is what the repository needs of a domain aggregate: its version (the seq of its last event), a fold
// of events, and its snapshot form.
type Aggregate interface {
	Version() int64
	Apply(domain.Event) error
	ApplyAll([]domain.Event) error
	MarshalSnapshot() ([]byte, error)
}

// Kind tells the repository how to make, restore and name one type of aggregate.
type Kind[A Aggregate] struct {
	AggregateType string
	// New returns the aggregate with id before its first event.
	New          func(id string) A
	FromSnapshot func([]byte) (A, error)
}

// RoomKind is the Room aggregate's Kind.
var RoomKind = Kind[*domain.Room]{
	AggregateType: domain.AggregateTypeRoom,
	New:           func(id string) *domain.Room { return domain.NewRoom(domain.RoomID(id)) },
	FromSnapshot:  domain.UnmarshalRoomSnapshot,
}

// AccountKind is the Account aggregate's Kind.
var AccountKind = Kind[*domain.Account]{
	AggregateType: domain.AggregateTypeAccount,
	New:           func(id string) *domain.Account { return domain.NewAccount(domain.AccountID(id)) },
	FromSnapshot:  domain.UnmarshalAccountSnapshot,
}

// RepositoryConfig configures an EventRepository; zero fields take the defaults noted.
type RepositoryConfig struct {
	Store eventstore.Store
	// SnapshotEvery writes a snapshot with the append that crosses each multiple of it (default 100).
	SnapshotEvery int64
	// CacheEntries and CacheBytes bound the hot aggregate cache (defaults 10,000 and 256 MiB).
	CacheEntries int
	CacheBytes   int
	// MaxAttempts bounds decide-and-append attempts when other writers keep winning (default 8).
	MaxAttempts int
	// IdempotencyTTL is how long a recorded response is replayed (default 24h).
	IdempotencyTTL time.Duration
	// Now is the clock for occurred_at and expiries (default time.Now).
	Now func() time.Time
}

func (c *RepositoryConfig) applyDefaults() {
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 100
	}
	if c.CacheEntries == 0 {
		c.CacheEntries = 10_000
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = 256 << 20
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.IdempotencyTTL == 0 {
		c.IdempotencyTTL = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c RepositoryConfig) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if c.SnapshotEvery < 1 || c.CacheEntries < 1 || c.CacheBytes < 1 || c.MaxAttempts < 1 || c.IdempotencyTTL <= 0 {
		errs = append(errs, errors.New("snapshot interval, cache bounds, attempts and idempotency TTL must be positive"))
	}
	return errors.Join(errs...)
}

// stripes is the number of per-aggregate locks: commands on one aggregate in this process run one at a time, so
// they never race each other in the store; unrelated aggregates rarely share a lock.
const stripes = 1024

// EventRepository loads aggregates from the journal (snapshot + tail, or the hot cache) and appends the events
// their commands decide, in one transaction with the snapshot and idempotency record. It is safe for concurrent
// use.
type EventRepository[A Aggregate, ID ~string] struct {
	kind  Kind[A]
	cfg   RepositoryConfig
	cache *aggregateCache[A]
	seed  maphash.Seed
	locks [stripes]sync.Mutex
}

var (
	_ app.RoomRepository    = (*EventRepository[*domain.Room, domain.RoomID])(nil)
	_ app.AccountRepository = (*EventRepository[*domain.Account, domain.AccountID])(nil)
)

// NewEventRepository returns a repository of kind's aggregates; it fails when cfg is invalid.
func NewEventRepository[A Aggregate, ID ~string](kind Kind[A], cfg RepositoryConfig) (*EventRepository[A, ID], error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%s repository config: %w", kind.AggregateType, err)
	}
	cache, err := newAggregateCache[A](cfg.CacheEntries, cfg.CacheBytes)
	if err != nil {
		return nil, fmt.Errorf("%s repository cache: %w", kind.AggregateType, err)
	}
	return &EventRepository[A, ID]{kind: kind, cfg: cfg, cache: cache, seed: maphash.MakeSeed()}, nil
}

func (r *EventRepository[A, ID]) lock(id string) func() {
	mu := &r.locks[maphash.String(r.seed, id)%stripes]
	mu.Lock()
	return mu.Unlock
}

// Update implements app.RoomRepository and app.AccountRepository.
func (r *EventRepository[A, ID]) Update(ctx context.Context, id ID, w app.Write, decide func(A) ([]domain.Event, error)) (int64, error) {
	key := string(id)
	defer r.lock(key)()
	for attempt := 1; ; attempt++ {
		agg, err := r.current(ctx, key)
		if err != nil {
			return 0, err
		}
		if w.IfMatch != nil && *w.IfMatch != agg.Version() {
			return 0, fmt.Errorf("%s is at version %d, If-Match is %d: %w", key, agg.Version(), *w.IfMatch, app.ErrPreconditionFailed)
		}
		events, err := decide(agg)
		if err != nil {
			return 0, err
		}
		if len(events) == 0 {
			return agg.Version(), nil
		}
		req, err := r.prepare(key, agg, events, w)
		if err != nil {
			r.cache.evict(key)
			return 0, err
		}
		err = r.cfg.Store.Append(ctx, req)
		if err == nil {
			r.cache.put(key, agg, estimateSize(agg.Version()))
			return agg.Version(), nil
		}
		// prepare applied the events to agg; whatever failed, the cached copy is no longer the stored one.
		r.cache.evict(key)
		switch {
		case errors.Is(err, eventstore.ErrVersionConflict):
			if attempt >= r.cfg.MaxAttempts {
				return 0, fmt.Errorf("append to %s after %d attempts: %w", key, attempt, app.ErrContention)
			}
			if err := backoff(ctx, attempt); err != nil {
				return 0, err
			}
		case errors.Is(err, eventstore.ErrIdempotencyKeyExists):
			return 0, fmt.Errorf("append to %s: %w", key, app.ErrIdempotencyKeyExists)
		case errors.Is(err, eventstore.ErrUnavailable):
			return 0, fmt.Errorf("append to %s: %w: %w", key, app.ErrUnavailable, err)
		default:
			return 0, fmt.Errorf("append to %s: %w", key, err)
		}
	}
}

// Exists reports whether the aggregate has any event.
func (r *EventRepository[A, ID]) Exists(ctx context.Context, id ID) (bool, error) {
	key := string(id)
	defer r.lock(key)()
	agg, err := r.current(ctx, key)
	if err != nil {
		return false, err
	}
	return agg.Version() > 0, nil
}

// CacheStats returns the hot cache's entry count and estimated bytes.
func (r *EventRepository[A, ID]) CacheStats() (entries, bytes int) { return r.cache.stats() }

// current returns the cached aggregate or loads it; the caller holds the aggregate's lock.
func (r *EventRepository[A, ID]) current(ctx context.Context, key string) (A, error) {
	if agg, ok := r.cache.get(key); ok {
		return agg, nil
	}
	agg, err := r.Load(ctx, key)
	if err == nil && agg.Version() > 0 {
		r.cache.put(key, agg, estimateSize(agg.Version()))
	}
	return agg, err
}

// Load rebuilds an aggregate from the journal alone, bypassing the cache: the newest usable snapshot plus the
// events after it. A snapshot that cannot be restored is ignored (full replay), never trusted.
func (r *EventRepository[A, ID]) Load(ctx context.Context, key string) (A, error) {
	agg, after := r.kind.New(key), int64(0)
	snap, err := r.cfg.Store.LatestSnapshot(ctx, key)
	if err != nil {
		return agg, storeError("load snapshot of "+key, err)
	}
	if snap != nil {
		if restored, err := r.kind.FromSnapshot(snap.State); err == nil && restored.Version() == snap.Seq {
			agg, after = restored, snap.Seq
		}
	}
	records, err := r.cfg.Store.Load(ctx, key, after)
	if err != nil {
		return agg, storeError("load events of "+key, err)
	}
	for _, rec := range records {
		if rec.Seq != agg.Version()+1 {
			return agg, fmt.Errorf("load %s: event seq %d follows version %d: journal has a gap", key, rec.Seq, agg.Version())
		}
		ev, err := decodeRecord(rec)
		if err != nil {
			return agg, fmt.Errorf("load %s: %w", key, err)
		}
		if err := agg.Apply(ev); err != nil {
			return agg, fmt.Errorf("load %s: apply seq %d: %w", key, rec.Seq, err)
		}
	}
	return agg, nil
}

// prepare applies events to agg and builds the append: the journal records, a snapshot when the append crosses
// a multiple of SnapshotEvery, and the idempotency record.
func (r *EventRepository[A, ID]) prepare(key string, agg A, events []domain.Event, w app.Write) (eventstore.AppendRequest, error) {
	now := r.cfg.Now().UTC()
	base := agg.Version()
	req := eventstore.AppendRequest{AggregateID: key, ExpectedSeq: base, Events: make([]eventstore.Record, len(events))}
	for i, ev := range events {
		payload, err := json.Marshal(ev)
		if err != nil {
			return req, fmt.Errorf("encode %s: %w", ev.EventType(), err)
		}
		req.Events[i] = eventstore.Record{
			AggregateID: key, AggregateType: r.kind.AggregateType, Seq: base + int64(i) + 1,
			Type: ev.EventType(), Version: ev.EventVersion(), EventID: NewID(), OccurredAt: now,
			CorrelationID: w.Meta.CorrelationID, CausationID: w.Meta.CommandID, CommandID: w.Meta.CommandID,
			TraceParent: w.Meta.TraceParent, Payload: payload,
		}
	}
	if err := agg.ApplyAll(events); err != nil {
		return req, fmt.Errorf("apply new events to %s: %w", key, err)
	}
	if agg.Version()/r.cfg.SnapshotEvery > base/r.cfg.SnapshotEvery {
		state, err := agg.MarshalSnapshot()
		if err != nil {
			return req, fmt.Errorf("snapshot %s: %w", key, err)
		}
		req.Snapshot = &eventstore.Snapshot{AggregateID: key, Seq: agg.Version(), State: state}
	}
	if idem := w.Idempotency; idem != nil {
		resp, err := idem.Response(agg.Version())
		if err != nil {
			return req, fmt.Errorf("render idempotent response: %w", err)
		}
		req.Idempotency = &eventstore.IdempotencyRecord{
			Key: idem.Key, RequestHash: idem.RequestHash, Response: resp, ExpiresAt: now.Add(r.cfg.IdempotencyTTL),
		}
	}
	return req, nil
}

// decodeRecord upcasts a stored event to its current version and decodes it into the domain event.
func decodeRecord(rec eventstore.Record) (domain.Event, error) {
	env, err := schemas.Upcast(schemas.Envelope{
		ID: rec.EventID, Type: rec.Type, Version: rec.Version, AggregateType: rec.AggregateType,
		AggregateID: rec.AggregateID, Seq: rec.Seq, OccurredAt: rec.OccurredAt, Payload: rec.Payload,
	})
	if err != nil {
		return nil, fmt.Errorf("upcast seq %d (%s v%d): %w", rec.Seq, rec.Type, rec.Version, err)
	}
	ev, err := domain.DecodeEvent(env.Type, env.Payload)
	if err != nil {
		return nil, fmt.Errorf("decode seq %d: %w", rec.Seq, err)
	}
	return ev, nil
}

// backoff waits a random time that grows with the attempt before a conflicted command runs again, so writers
// racing on one aggregate stop colliding in lockstep; it returns ctx's error when ctx ends first.
func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(time.Duration(attempt) * 3 * time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// estimateSize is an upper-bound guess of an aggregate's memory from its event count: each event adds at most
// one member or message entry to the state.
func estimateSize(version int64) int { return 256 + 96*int(version) }

func storeError(what string, err error) error {
	if errors.Is(err, eventstore.ErrUnavailable) {
		return fmt.Errorf("%s: %w: %w", what, app.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
