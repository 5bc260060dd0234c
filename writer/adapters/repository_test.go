package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

type roomRepo = adapters.EventRepository[*domain.Room, domain.RoomID]

func newRoomRepo(tb testing.TB, cfg adapters.RepositoryConfig) *roomRepo {
	tb.Helper()
	r, err := adapters.NewEventRepository[*domain.Room, domain.RoomID](adapters.RoomKind, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

const (
	alice = domain.AccountID("alice")
	room  = domain.RoomID("room-01JD5Z7Q00000000000000000R")
)

// msgID returns a new id of a message posted as event seq of its room.
func msgID(seq int) domain.MessageID { return adapters.ULIDs{}.NewMessageID(int64(seq)) }

// seedRoom creates room by alice and posts messages in commands of batch events each until the room has n
// events, through repo's own Update (so snapshots are written the way the writer writes them).
func seedRoom(tb testing.TB, repo *roomRepo, n, batch int) {
	tb.Helper()
	ctx := context.Background()
	v, err := repo.Update(ctx, room, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.Create(room, "seeded", alice)
	})
	if err != nil {
		tb.Fatalf("create: %v", err)
	}
	for next := int(v) + 1; next <= n; {
		k := min(batch, n-next+1)
		first := next
		v, err = repo.Update(ctx, room, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
			var out []domain.Event
			for i := range k {
				evs, err := r.PostMessage(msgID(first+i), fmt.Sprintf("メッセージ %d", first+i), alice)
				if err != nil {
					return nil, err
				}
				out = append(out, evs...)
			}
			return out, nil
		})
		if err != nil {
			tb.Fatalf("post at %d: %v", next, err)
		}
		next = int(v) + 1
	}
	if int(v) != n {
		tb.Fatalf("seeded to version %d, want %d", v, n)
	}
}

// withoutSnapshots hides every snapshot, so loading replays the whole journal.
type withoutSnapshots struct{ eventstore.Store }

func (withoutSnapshots) LatestSnapshot(context.Context, string) (*eventstore.Snapshot, error) {
	return nil, nil
}

// checkSnapshotLoadEqualsReplay checks that loading the 10,000-event room in store (snapshot + tail) equals the
// fold of every event; repo is the repository that wrote it, with snapshots every 100 events.
func checkSnapshotLoadEqualsReplay(t *testing.T, store eventstore.Store, repo *roomRepo) {
	repo.WaitSnapshots()
	snap, err := store.LatestSnapshot(context.Background(), string(room))
	if err != nil || snap == nil || snap.Seq != 10_000 {
		t.Fatalf("latest snapshot = %+v, %v; want one at seq 10000", snap, err)
	}
	viaSnapshot, err := repo.Load(context.Background(), string(room))
	if err != nil {
		t.Fatal(err)
	}
	replay := newRoomRepo(t, adapters.RepositoryConfig{Store: withoutSnapshots{store}})
	viaReplay, err := replay.Load(context.Background(), string(room))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := viaSnapshot.MarshalSnapshot()
	b, _ := viaReplay.MarshalSnapshot()
	if viaReplay.Version() != 10_000 || string(a) != string(b) {
		t.Errorf("snapshot load (v%d) differs from full replay (v%d)", viaSnapshot.Version(), viaReplay.Version())
	}
}

func TestSnapshotLoadEqualsReplayMemory(t *testing.T) {
	t.Parallel()
	store := eventstore.NewMemory()
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: store, SnapshotEvery: 100})
	seedRoom(t, repo, 10_000, 40)
	checkSnapshotLoadEqualsReplay(t, store, repo)
}

// TestConflictReloadsAndReruns has two repositories (two writer processes) share a journal: the second one's
// cached room is stale after the first appends, its append conflicts, and it reloads and decides again.
func TestConflictReloadsAndReruns(t *testing.T) {
	t.Parallel()
	store := eventstore.NewMemory()
	one := newRoomRepo(t, adapters.RepositoryConfig{Store: store})
	two := newRoomRepo(t, adapters.RepositoryConfig{Store: store})
	seedRoom(t, one, 2, 1)
	post := func(repo *roomRepo, i int) (int64, error) {
		return repo.Update(context.Background(), room, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
			return r.PostMessage(msgID(i), "hi", alice)
		})
	}
	if v, err := post(two, 100); err != nil || v != 3 {
		t.Fatalf("two posts: v%d, %v", v, err)
	}
	if v, err := post(one, 101); err != nil || v != 4 {
		t.Fatalf("one posts on a stale cache: v%d, %v; want a reload and v4", v, err)
	}
	if st := one.Stats(); st.Conflicts != 1 {
		t.Errorf("stats: %+v, want one conflict", st)
	}
	recs, _ := store.Load(context.Background(), string(room), 0)
	if len(recs) != 4 {
		t.Errorf("journal has %d events, want 4", len(recs))
	}
}

// alwaysConflicting refuses every append as if another writer always won.
type alwaysConflicting struct {
	eventstore.Store
	appends atomic.Int32
}

func (s *alwaysConflicting) Append(context.Context, eventstore.AppendRequest) error {
	s.appends.Add(1)
	return fmt.Errorf("append: %w", eventstore.ErrVersionConflict)
}

func TestContentionIsBounded(t *testing.T) {
	t.Parallel()
	store := &alwaysConflicting{Store: eventstore.NewMemory()}
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: store, MaxAttempts: 3})
	_, err := repo.Update(context.Background(), room, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.Create(room, "r", alice)
	})
	if !errors.Is(err, app.ErrContention) {
		t.Errorf("Update = %v, want ErrContention", err)
	}
	if n := store.appends.Load(); n != 3 {
		t.Errorf("%d appends, want 3 (MaxAttempts)", n)
	}
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	store := eventstore.NewMemory()
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: store})
	seedRoom(t, repo, 3, 1)
	stale := int64(2)
	_, err := repo.Update(context.Background(), room, app.Write{IfMatch: &stale}, func(r *domain.Room) ([]domain.Event, error) {
		return r.Rename("x", alice)
	})
	if !errors.Is(err, app.ErrPreconditionFailed) {
		t.Errorf("stale If-Match = %v, want ErrPreconditionFailed", err)
	}
	current := int64(3)
	if v, err := repo.Update(context.Background(), room, app.Write{IfMatch: &current}, func(r *domain.Room) ([]domain.Event, error) {
		return r.Rename("x", alice)
	}); err != nil || v != 4 {
		t.Errorf("current If-Match = v%d, %v; want v4", v, err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	store := eventstore.NewMemory()
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: store, CacheEntries: 2, CacheBytes: 1 << 20})
	for i := range 5 {
		id := domain.RoomID(fmt.Sprintf("room-01JD5Z7Q%018d", i))
		if _, err := repo.Update(context.Background(), id, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
			return r.Create(id, "r", alice)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := repo.CacheStats(); n != 2 {
		t.Errorf("cache holds %d aggregates, want 2", n)
	}
	small := newRoomRepo(t, adapters.RepositoryConfig{Store: store, CacheEntries: 100, CacheBytes: 600})
	for i := range 5 {
		if _, err := small.Exists(context.Background(), domain.RoomID(fmt.Sprintf("room-01JD5Z7Q%018d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, bytes := small.CacheStats(); bytes > 600 {
		t.Errorf("cache holds %d bytes, bound 600", bytes)
	}
}
