package adapters_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// countingStore counts the journal reads of the store it wraps.
type countingStore struct {
	eventstore.Store
	loads, snapshots atomic.Int32
}

func (s *countingStore) LatestSnapshot(ctx context.Context, id string) (*eventstore.Snapshot, error) {
	s.snapshots.Add(1)
	return s.Store.LatestSnapshot(ctx, id)
}

func (s *countingStore) Load(ctx context.Context, id string, after int64) ([]eventstore.Record, error) {
	s.loads.Add(1)
	return s.Store.Load(ctx, id, after)
}

func (s *countingStore) LoadUpTo(ctx context.Context, id string, after int64, max int) ([]eventstore.Record, bool, error) {
	s.loads.Add(1)
	return s.Store.LoadUpTo(ctx, id, after, max)
}

func update(repo *roomRepo, w app.Write, decide func(*domain.Room) ([]domain.Event, error)) (int64, error) {
	return repo.Update(context.Background(), room, w, decide)
}

// TestRejectionOnAStaleCacheIsConfirmed has two repositories (two writer instances) share a journal: what one
// changes, the other's cached copy does not show, yet it must not answer a rejection from that copy.
func TestRejectionOnAStaleCacheIsConfirmed(t *testing.T) {
	t.Parallel()
	store := &countingStore{Store: eventstore.NewMemory()}
	one := newRoomRepo(t, adapters.RepositoryConfig{Store: store})
	two := newRoomRepo(t, adapters.RepositoryConfig{Store: store})
	seedRoom(t, one, 2, 1) // one caches the room at version 2
	if _, err := update(two, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.AddMember("bob", domain.RoleMember, alice)
	}); err != nil {
		t.Fatal(err)
	}
	// bob was added through two; through one he posts, on a copy that does not know him.
	if v, err := update(one, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.PostMessage(msgID(50), "hi", "bob")
	}); err != nil || v != 4 {
		t.Fatalf("bob posts through the stale instance: v%d, %v; want v4", v, err)
	}
	if st := one.Stats(); st.Rechecks != 1 || st.Conflicts != 0 {
		t.Errorf("stats after the recheck: %+v, want one recheck and no conflict", st)
	}
	// two's copy is at 3; an If-Match of the true version 4 is met.
	current := int64(4)
	if v, err := update(two, app.Write{IfMatch: &current}, func(r *domain.Room) ([]domain.Event, error) {
		return r.Rename("renamed", alice)
	}); err != nil || v != 5 {
		t.Fatalf("If-Match of the journal's version on a stale copy: v%d, %v; want v5", v, err)
	}
	// A real rejection on a current copy stays a rejection, confirmed by one read of the (empty) tail.
	before := store.loads.Load()
	if _, err := update(two, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.PostMessage(msgID(51), "hi", "eve")
	}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("eve posts: %v, want ErrNotFound", err)
	}
	if n := store.loads.Load() - before; n != 1 {
		t.Errorf("a rejection on a current copy read the journal %d times, want 1", n)
	}
	// Invalid input is refused without a read: the state cannot change that answer.
	before = store.loads.Load()
	if _, err := update(two, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.Rename("", alice)
	}); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("empty name: %v, want ErrInvalid", err)
	}
	if n := store.loads.Load() - before; n != 0 {
		t.Errorf("invalid input read the journal %d times, want 0", n)
	}
}

// TestFarBehindCopyIsReplaced: a cached copy more than SnapshotEvery events behind the journal is not caught up
// event by event but loaded afresh from the newest snapshot, and the command still decides on the current state.
func TestFarBehindCopyIsReplaced(t *testing.T) {
	t.Parallel()
	store := &countingStore{Store: eventstore.NewMemory()}
	one := newRoomRepo(t, adapters.RepositoryConfig{Store: store, SnapshotEvery: 10})
	two := newRoomRepo(t, adapters.RepositoryConfig{Store: store, SnapshotEvery: 10})
	seedRoom(t, one, 2, 1)   // one caches the room at version 2
	seedRoom2(t, two, 2, 40) // two takes it to 42, snapshots at 10, 20, 30, 40
	two.WaitSnapshots()
	before := store.snapshots.Load()
	if v, err := update(one, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.Rename("renamed", alice)
	}); err != nil || v != 43 {
		t.Fatalf("rename on a copy 40 events behind: v%d, %v; want v43", v, err)
	}
	if n := store.snapshots.Load() - before; n != 1 {
		t.Errorf("the far-behind copy read the snapshot %d times, want 1 (loaded afresh)", n)
	}
}

// seedRoom2 posts n messages to room through repo, which finds it at version from.
func seedRoom2(tb testing.TB, repo *roomRepo, from, n int) {
	tb.Helper()
	for i := range n {
		if _, err := update(repo, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
			return r.PostMessage(msgID(from+i+1), "hi", alice)
		}); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestCacheAccountingHoldsUnderUpdates: replacing a cached aggregate must not count its old size again, or a
// busy room inflates the counted bytes until the cache keeps nothing else.
func TestCacheAccountingHoldsUnderUpdates(t *testing.T) {
	t.Parallel()
	store := eventstore.NewMemory()
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: store, CacheBytes: 1 << 20})
	other := domain.RoomID("room-01JD5Z7Q00000000000000000S")
	if _, err := repo.Update(context.Background(), other, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.Create(other, "other", alice)
	}); err != nil {
		t.Fatal(err)
	}
	seedRoom(t, repo, 2_000, 1)
	entries, bytes := repo.CacheStats()
	if entries != 2 || bytes > 4<<10 {
		t.Errorf("after 2,000 commands on one room the cache holds %d aggregates and counts %d bytes; want both rooms in a few KiB",
			entries, bytes)
	}
}

// TestLockWaitEndsWithTheRequest: a command queued behind another on the same aggregate gives up when its
// context ends, with ErrContention (503 and Retry-After), instead of waiting without bound.
func TestLockWaitEndsWithTheRequest(t *testing.T) {
	t.Parallel()
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: eventstore.NewMemory()})
	seedRoom(t, repo, 1, 1)
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := update(repo, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
			close(holding)
			<-release
			return r.Rename("slow", alice)
		})
		done <- err
	}()
	<-holding
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := repo.Update(ctx, room, app.Write{}, func(r *domain.Room) ([]domain.Event, error) { return r.Rename("x", alice) })
	if !errors.Is(err, app.ErrContention) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued command = %v, want ErrContention with the deadline", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("queued command waited %s past its 50ms deadline", waited)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the holding command: %v", err)
	}
}

// blockingSnapshots holds every SaveSnapshot until released.
type blockingSnapshots struct {
	eventstore.Store
	started chan int64
	release chan struct{}
}

func (s *blockingSnapshots) SaveSnapshot(ctx context.Context, snap eventstore.Snapshot) error {
	s.started <- snap.Seq
	<-s.release
	return s.Store.SaveSnapshot(ctx, snap)
}

// TestSnapshotsDoNotBlockCommands: the command that crosses a snapshot interval is answered before its snapshot
// is saved, the next commands on the aggregate do not wait for the save either, and a newer snapshot taken
// meanwhile is saved after it.
func TestSnapshotsDoNotBlockCommands(t *testing.T) {
	t.Parallel()
	store := &blockingSnapshots{Store: eventstore.NewMemory(), started: make(chan int64, 10), release: make(chan struct{})}
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: store, SnapshotEvery: 4})
	seedRoom(t, repo, 9, 1) // crosses 4, whose save is held, then 8 while it is
	if seq := <-store.started; seq != 4 {
		t.Fatalf("snapshot started at seq %d, want 4", seq)
	}
	snap, err := store.LatestSnapshot(context.Background(), string(room))
	if err != nil || snap != nil {
		t.Fatalf("while the save is held: snapshot %+v, %v; want none yet", snap, err)
	}
	close(store.release)
	repo.WaitSnapshots()
	if seq := <-store.started; seq != 8 {
		t.Errorf("second save at seq %d, want 8", seq)
	}
	snap, err = store.LatestSnapshot(context.Background(), string(room))
	if err != nil || snap == nil || snap.Seq != 8 {
		t.Fatalf("after the saves: snapshot %+v, %v; want seq 8", snap, err)
	}
	if st := repo.Stats(); st.SnapshotsSaved != 2 || st.SnapshotsFailed != 0 || st.SnapshotsSkipped != 0 {
		t.Errorf("snapshot stats %+v, want 2 saved", st)
	}
	restored, err := domain.UnmarshalRoomSnapshot(snap.State)
	if err != nil || restored.Version() != 8 {
		t.Errorf("saved snapshot restores to %+v, %v", restored, err)
	}
}

// TestMessagesAreFoundByTheirIDs: a message id carries the seq of its MessagePosted, which says who posted it,
// so a post writes nothing but its event; a deletion marks the message's entity in the events' transaction; an
// id that points at another event, or into another room, finds nothing; the room's state keeps no message.
func TestMessagesAreFoundByTheirIDs(t *testing.T) {
	t.Parallel()
	store := eventstore.NewMemory()
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: store})
	messages := adapters.MessagesEventstoreReader{Store: store}
	seedRoom(t, repo, 1, 1)
	posted := msgID(2)
	if _, err := update(repo, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.PostMessage(posted, "hi", alice)
	}); err != nil {
		t.Fatal(err)
	}
	find := func(room domain.RoomID, id domain.MessageID) (domain.Message, bool) {
		t.Helper()
		m, found, err := messages.Message(context.Background(), room, id)
		if err != nil {
			t.Fatal(err)
		}
		return m, found
	}
	if m, found := find(room, posted); !found || m != (domain.Message{ID: posted, Room: room, Author: alice}) {
		t.Fatalf("posted message = %+v, %t", m, found)
	}
	for name, id := range map[string]domain.MessageID{
		"another seq": msgID(1), "a seq past the room": msgID(99), "no seq": "msg-" + domain.MessageID(adapters.NewID()),
		"not a ULID": "msg-x",
	} {
		if m, found := find(room, id); found {
			t.Errorf("%s: found %+v", name, m)
		}
	}
	if m, found := find("room-01JD5Z7Q00000000000000000S", posted); found {
		t.Errorf("found in another room: %+v", m)
	}
	if recs, _ := store.Load(context.Background(), string(room), 0); len(recs) != 2 {
		t.Fatalf("journal has %d events, want 2", len(recs))
	}
	if attrs, err := store.Entity(context.Background(), string(posted)); err != nil || attrs != nil {
		t.Errorf("a post wrote an entity: %v, %v", attrs, err)
	}
	m, _ := find(room, posted)
	if _, err := update(repo, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.DeleteMessage(m, alice)
	}); err != nil {
		t.Fatal(err)
	}
	if m, found := find(room, posted); !found || !m.Deleted || m.Author != alice {
		t.Errorf("deleted message = %+v, %t", m, found)
	}
	r, err := repo.Load(context.Background(), string(room))
	if err != nil {
		t.Fatal(err)
	}
	if snap, _ := r.MarshalSnapshot(); len(snap) > 200 {
		t.Errorf("the room's state has %d bytes after its messages: %s", len(snap), snap)
	}
}
