package adapters_test

import (
	"context"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// TestSnapshotLoadEqualsReplayDynamoDB is the 10,000-event check against the local stack's DynamoDB API, with
// snapshots written by the repository every 100 events.
func TestSnapshotLoadEqualsReplayDynamoDB(t *testing.T) {
	t.Parallel()
	store, repo := seedDynamoDB(t)
	checkSnapshotLoadEqualsReplay(t, store, repo)
}

// seedDynamoDB makes the 10,000-event room in a fresh DynamoDB journal: 9,999 events decided by a repository on
// a memory journal and copied over in batches (moto 5 copies the whole table for every item of a transaction, so
// 200 transactional appends would take hours), then the last command through the DynamoDB repository, whose
// append writes the snapshot at 10,000. It returns the store and that repository.
func seedDynamoDB(tb testing.TB) (*eventstore.DynamoDB, *roomRepo) {
	tb.Helper()
	mem := eventstore.NewMemory()
	seedRoom(tb, newRoomRepo(tb, adapters.RepositoryConfig{Store: mem, SnapshotEvery: 100}), 9_999, 40)
	recs, err := mem.Load(context.Background(), string(room), 0)
	if err != nil {
		tb.Fatal(err)
	}
	fx := eventstoretest.NewDynamoDBFixture(tb, func(c *eventstore.DynamoDBConfig) { c.Now = time.Now })
	fx.Seed(tb, recs)
	repo := newRoomRepo(tb, adapters.RepositoryConfig{Store: fx.Store, SnapshotEvery: 100})
	v, err := repo.Update(context.Background(), room, app.Write{}, func(r *domain.Room) ([]domain.Event, error) {
		return r.PostMessage(msgID(10_000), "最後", alice)
	})
	if err != nil || v != 10_000 {
		tb.Fatalf("last post: v%d, %v", v, err)
	}
	return fx.Store, repo
}

// BenchmarkRatioAggregateLoadSnapshot: the time to load a 10,000-event room by replaying every event over the
// time to load it from its newest snapshot (taken every 100 events), both from DynamoDB.
func BenchmarkRatioAggregateLoadSnapshot(b *testing.B) {
	benchkit.Expect(b, "aggregate_load_snapshot")
	store, withSnapshots := seedDynamoDB(b)
	replayOnly := newRoomRepo(b, adapters.RepositoryConfig{Store: withoutSnapshots{store}})
	load := func(repo *roomRepo) benchkit.Measure {
		return func() (float64, error) {
			start := time.Now()
			agg, err := repo.Load(context.Background(), string(room))
			if err == nil && agg.Version() != 10_000 {
				b.Fatalf("loaded version %d", agg.Version())
			}
			return float64(time.Since(start).Microseconds()) / 1000, err
		}
	}
	for b.Loop() {
		r, err := benchkit.Compare(5, load(replayOnly), load(withSnapshots), benchkit.Over)
		r.Unit, r.Target, r.Note = "ms", benchkit.RatioAtLeast(10), "value: full replay, reference: snapshot + tail"
		benchkit.Save(b, "aggregate_load_snapshot", r, err)
	}
}
