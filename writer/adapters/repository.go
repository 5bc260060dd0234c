// Package adapters connects the writer's application layer to infrastructure: the event-sourced repositories on
// the journal (internal/eventstore), with the hot aggregate cache and snapshots, and the id source.
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
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

// Kind tells the repository how to make, restore, size and name one type of aggregate.
type Kind[A Aggregate] struct {
	AggregateType string
	// New returns the aggregate with id before its first event.
	New          func(id string) A
	FromSnapshot func([]byte) (A, error)
	// Size estimates the aggregate's memory in bytes, for the hot cache's bound.
	Size func(A) int
	// Entities returns the entity writes that go with the aggregate's new events in their transaction (nil: none).
	Entities func(aggregateID string, events []domain.Event) []eventstore.EntityWrite
}

// RoomKind is the Room aggregate's Kind; its messages are entities of their own (see MessagesEventstoreReader).
var RoomKind = Kind[*domain.Room]{
	AggregateType: domain.AggregateTypeRoom,
	New:           func(id string) *domain.Room { return domain.NewRoom(domain.RoomID(id)) },
	FromSnapshot:  domain.UnmarshalRoomSnapshot,
	Size:          func(r *domain.Room) int { return 256 + len(r.Name()) + 96*r.MemberCount() },
	Entities:      messageEntities,
}

// AccountKind is the Account aggregate's Kind.
var AccountKind = Kind[*domain.Account]{
	AggregateType: domain.AggregateTypeAccount,
	New:           func(id string) *domain.Account { return domain.NewAccount(domain.AccountID(id)) },
	FromSnapshot:  domain.UnmarshalAccountSnapshot,
	Size:          func(a *domain.Account) int { return 256 + len(a.Name()) },
}

// RepositoryConfig configures an EventRepository; zero fields take the defaults noted.
type RepositoryConfig struct {
	Store eventstore.Store
	// SnapshotEvery saves a snapshot, in the background, after the append that crosses each multiple of it
	// (default 100).
	SnapshotEvery int64
	// SnapshotSlots bounds the snapshot saves running at once (default 4); SnapshotTimeout bounds each (default
	// 30s).
	SnapshotSlots   int
	SnapshotTimeout time.Duration
	// CacheEntries and CacheBytes bound the hot aggregate cache (defaults 10,000 and 256 MiB).
	CacheEntries int
	CacheBytes   int
	// MaxAttempts bounds decide-and-append attempts when other writers keep winning (default 8).
	MaxAttempts int
	// IdempotencyTTL is how long a recorded response is replayed (default 24h).
	IdempotencyTTL time.Duration
	// Now is the clock for occurred_at and expiries (default time.Now).
	Now func() time.Time
	// Log receives what goes wrong off the command path: failed snapshot saves (default: discarded).
	Log *slog.Logger
}

func (c *RepositoryConfig) applyDefaults() {
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 100
	}
	if c.SnapshotSlots == 0 {
		c.SnapshotSlots = 4
	}
	if c.SnapshotTimeout == 0 {
		c.SnapshotTimeout = 30 * time.Second
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
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

func (c RepositoryConfig) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if c.SnapshotEvery < 1 || c.SnapshotSlots < 1 || c.SnapshotTimeout <= 0 || c.CacheEntries < 1 || c.CacheBytes < 1 ||
		c.MaxAttempts < 1 || c.IdempotencyTTL <= 0 {
		errs = append(errs, errors.New("snapshot interval, slots and timeout, cache bounds, attempts and idempotency TTL must be positive"))
	}
	return errors.Join(errs...)
}

// EventRepository loads aggregates from the journal (snapshot + tail, or the hot cache) and appends the events
// their commands decide, in one transaction with their entities and the idempotency record; snapshots are saved
// after the append, in the background. It is safe for concurrent use.
type EventRepository[A Aggregate, ID ~string] struct {
	kind      Kind[A]
	cfg       RepositoryConfig
	cache     *aggregateCache[A]
	locks     *aggregateLocks
	snapshots *snapshotter
	// conflicts counts appends another writer won; rechecks counts rejections checked against the journal.
	conflicts, rechecks atomic.Int64
}

// Stats are a repository's counts since it was made, for the operator's metrics.
type Stats struct {
	// Conflicts counts appends another writer won, after which the command was decided again.
	Conflicts int64
	// Rechecks counts rejections decided on a cached aggregate and checked against the journal.
	Rechecks int64
	// SnapshotsSaved, SnapshotsFailed and SnapshotsSkipped count background snapshot saves by outcome.
	SnapshotsSaved, SnapshotsFailed, SnapshotsSkipped int64
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
	return &EventRepository[A, ID]{
		kind: kind, cfg: cfg, cache: cache, locks: newAggregateLocks(),
		snapshots: newSnapshotter(cfg.Store, cfg.SnapshotSlots, cfg.SnapshotTimeout, cfg.Log),
	}, nil
}

// Update implements app.RoomRepository and app.AccountRepository. Waiting for the aggregate behind other
// commands of this process ends with ctx (app.ErrContention).
func (r *EventRepository[A, ID]) Update(ctx context.Context, id ID, w app.Write, decide func(A) ([]domain.Event, error)) (int64, error) {
	key := string(id)
	unlock, err := r.locks.lock(ctx, key)
	if err != nil {
		return 0, err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		agg, events, err := r.decide(ctx, key, w, decide)
		if err != nil {
			return 0, err
		}
		if len(events) == 0 {
			return agg.Version(), nil
		}
		req, err := r.prepare(key, agg, events, w)
		if err != nil {
			return 0, err
		}
		err = r.cfg.Store.Append(ctx, req)
		if err == nil {
			return r.applied(key, agg, events), nil
		}
		switch {
		case errors.Is(err, eventstore.ErrVersionConflict):
			r.conflicts.Add(1)
			if attempt >= r.cfg.MaxAttempts {
				return 0, fmt.Errorf("append to %s after %d attempts: %w", key, attempt, app.ErrContention)
			}
			if err := backoff(ctx, attempt); err != nil {
				return 0, storeError("wait to append to "+key+" again", err)
			}
			// agg is as it was decided on; the next attempt decides on it caught up with the journal.
			if _, _, err := r.catchUp(ctx, key, agg); err != nil {
				return 0, err
			}
		case errors.Is(err, eventstore.ErrIdempotencyKeyExists):
			return 0, fmt.Errorf("append to %s: %w", key, app.ErrIdempotencyKeyExists)
		case errors.Is(err, eventstore.ErrEntityExists):
			return 0, fmt.Errorf("append to %s: %w: %w", key, domain.ErrAlreadyExists, err)
		default:
			// The append may or may not have been written: the next command loads what is stored.
			r.cache.evict(key)
			return 0, storeError("append to "+key, err)
		}
	}
}

// applied folds the appended events into agg, keeps it hot and starts its snapshot when the append crossed an
// interval; it returns the version after the append. The events were decided on agg, so they fold; if they did
// not, the copy is dropped and the next command loads the journal.
func (r *EventRepository[A, ID]) applied(key string, agg A, events []domain.Event) int64 {
	base := agg.Version()
	if err := agg.ApplyAll(events); err != nil {
		r.cache.evict(key)
		r.cfg.Log.Error("appended events do not fold into the aggregate they were decided on", "aggregate_id", key,
			"seq", base, "error", err)
		return base + int64(len(events))
	}
	r.cache.put(key, agg, r.kind.Size(agg))
	r.snapshotAfter(key, agg, base)
	return agg.Version()
}

// catchUp brings agg up to the journal: it folds in, in place, the events after its version, read strongly
// consistently, when there are fewer than SnapshotEvery of them, and else loads the aggregate afresh from its
// newest snapshot and the events after it (a copy that far behind is cheaper to replace than to replay). It
// returns the aggregate caught up, now in the cache, and whether it had been behind; when it fails, the key is
// dropped from the cache.
func (r *EventRepository[A, ID]) catchUp(ctx context.Context, key string, agg A) (A, bool, error) {
	records, complete, err := r.cfg.Store.LoadUpTo(ctx, key, agg.Version(), int(r.cfg.SnapshotEvery))
	if err == nil && !complete {
		r.cache.evict(key)
		fresh, err := r.Load(ctx, key)
		if err != nil {
			return agg, false, err
		}
		r.cache.put(key, fresh, r.kind.Size(fresh))
		return fresh, true, nil
	}
	if err == nil {
		err = applyRecords(key, agg, records)
	}
	if err != nil {
		r.cache.evict(key)
		return agg, false, storeError("catch up on "+key, err)
	}
	if len(records) > 0 && agg.Version() > 0 {
		r.cache.put(key, agg, r.kind.Size(agg))
	}
	return agg, len(records) > 0, nil
}

// decide loads the aggregate (hot cache, else the journal), checks w.IfMatch and runs decide on it. A rejection
// decided on a cached copy is not answered from that copy: the copy first catches up with the journal (one
// strongly consistent read of the events after its version, none when it is current) and, when it was behind,
// the command is decided again. So whichever instance a client reaches, a rejection reflects the journal as of
// the request, and an acceptance is checked by the append's condition on the version.
func (r *EventRepository[A, ID]) decide(ctx context.Context, key string, w app.Write, decide func(A) ([]domain.Event, error)) (A, []domain.Event, error) {
	agg, cached, err := r.current(ctx, key)
	if err != nil {
		return agg, nil, err
	}
	events, err := decideOn(key, agg, w, decide)
	if err == nil || !cached || !dependsOnState(err) {
		return agg, events, err
	}
	r.rechecks.Add(1)
	agg, behind, loadErr := r.catchUp(ctx, key, agg)
	if loadErr != nil {
		return agg, nil, loadErr
	}
	if !behind {
		return agg, nil, err
	}
	events, err = decideOn(key, agg, w, decide)
	return agg, events, err
}

// decideOn checks w.IfMatch against agg's version, then runs decide.
func decideOn[A Aggregate](key string, agg A, w app.Write, decide func(A) ([]domain.Event, error)) ([]domain.Event, error) {
	if w.IfMatch != nil && *w.IfMatch != agg.Version() {
		return nil, fmt.Errorf("%s is at version %d, If-Match is %d: %w", key, agg.Version(), *w.IfMatch, app.ErrPreconditionFailed)
	}
	return decide(agg)
}

// dependsOnState reports whether a command's error may change with the aggregate's state: not for invalid input,
// nor when the store or the request's time failed.
func dependsOnState(err error) bool {
	return !errors.Is(err, domain.ErrInvalid) && !errors.Is(err, app.ErrUnavailable) &&
		!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

// snapshotAfter saves agg's snapshot in the background when the append after seq base crossed a multiple of
// SnapshotEvery. It runs under the aggregate's lock, so the state is encoded before another command changes it.
func (r *EventRepository[A, ID]) snapshotAfter(key string, agg A, base int64) {
	if agg.Version()/r.cfg.SnapshotEvery <= base/r.cfg.SnapshotEvery {
		return
	}
	state, err := agg.MarshalSnapshot()
	if err != nil {
		r.cfg.Log.Warn("snapshot not encoded", "aggregate_id", key, "seq", agg.Version(), "error", err)
		return
	}
	r.snapshots.save(eventstore.Snapshot{AggregateID: key, Seq: agg.Version(), State: state})
}

// Exists reports whether the aggregate has any event. A cached aggregate answers yes without a read: no
// aggregate loses its events.
func (r *EventRepository[A, ID]) Exists(ctx context.Context, id ID) (bool, error) {
	key := string(id)
	unlock, err := r.locks.lock(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	agg, _, err := r.current(ctx, key)
	if err != nil {
		return false, err
	}
	return agg.Version() > 0, nil
}

// Stats returns the repository's counts since it was made.
func (r *EventRepository[A, ID]) Stats() Stats {
	saved, failed, skipped := r.snapshots.counts()
	return Stats{
		Conflicts: r.conflicts.Load(), Rechecks: r.rechecks.Load(),
		SnapshotsSaved: saved, SnapshotsFailed: failed, SnapshotsSkipped: skipped,
	}
}

// CacheStats returns the hot cache's entry count and estimated bytes.
func (r *EventRepository[A, ID]) CacheStats() (entries, bytes int) { return r.cache.stats() }

// WaitSnapshots returns once every snapshot save started so far has ended (each is bounded by
// SnapshotTimeout): for an orderly shutdown, and for tests.
func (r *EventRepository[A, ID]) WaitSnapshots() { r.snapshots.wait() }

// current returns the cached aggregate (cached true) or loads it; the caller holds the aggregate's lock.
func (r *EventRepository[A, ID]) current(ctx context.Context, key string) (agg A, cached bool, err error) {
	if agg, ok := r.cache.get(key); ok {
		return agg, true, nil
	}
	agg, err = r.Load(ctx, key)
	if err == nil && agg.Version() > 0 {
		r.cache.put(key, agg, r.kind.Size(agg))
	}
	return agg, false, err
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
	if err := applyRecords(key, agg, records); err != nil {
		return agg, err
	}
	return agg, nil
}

// applyRecords folds the journal's records, which must follow agg's version without a gap, into agg.
func applyRecords[A Aggregate](key string, agg A, records []eventstore.Record) error {
	for _, rec := range records {
		if rec.Seq != agg.Version()+1 {
			return fmt.Errorf("load %s: event seq %d follows version %d: journal has a gap", key, rec.Seq, agg.Version())
		}
		ev, err := decodeRecord(rec)
		if err != nil {
			return fmt.Errorf("load %s: %w", key, err)
		}
		if err := agg.Apply(ev); err != nil {
			return fmt.Errorf("load %s: apply seq %d: %w", key, rec.Seq, err)
		}
	}
	return nil
}

// prepare builds the append of events decided on agg, which it leaves as it is: the journal records, the
// entities they change, and the idempotency record.
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
	if r.kind.Entities != nil {
		req.Entities = r.kind.Entities(key, events)
	}
	if idem := w.Idempotency; idem != nil {
		resp, err := idem.Response(base + int64(len(events)))
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

// storeError wraps err with what was being done; a store that could not be reached, or a request whose time ran
// out or that its client gave up, is app.ErrUnavailable: the command may be tried again.
func storeError(what string, err error) error {
	if errors.Is(err, eventstore.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w: %w", what, app.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
