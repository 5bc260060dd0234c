package adapters_test

import (
	"context"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// TestBackfillMessages runs the backfill on the local stack's DynamoDB over a journal written before message ids
// carried their seq: its messages are found only after the backfill, with their authors and deletions, and a
// second run changes nothing.
func TestBackfillMessages(t *testing.T) {
	t.Parallel()
	legacy := func() domain.MessageID { return domain.MessageID("msg-" + adapters.NewID()) }
	kept, deleted := legacy(), legacy()
	mem := eventstore.NewMemory()
	repo := newRoomRepo(t, adapters.RepositoryConfig{Store: mem})
	seedRoom(t, repo, 1, 1)
	for _, decide := range []func(*domain.Room) ([]domain.Event, error){
		func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("bob", domain.RoleMember, alice) },
		func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(kept, "kept", "bob") },
		func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(deleted, "gone", alice) },
		func(r *domain.Room) ([]domain.Event, error) {
			return r.DeleteMessage(domain.Message{ID: deleted, Room: room, Author: alice}, alice)
		},
	} {
		if _, err := update(repo, app.Write{}, decide); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := mem.Load(context.Background(), string(room), 0)
	if err != nil {
		t.Fatal(err)
	}
	fx := eventstoretest.NewDynamoDBFixture(t, nil)
	fx.Seed(t, recs) // the journal as the older writers left it: events only
	messages := adapters.MessagesEventstoreReader{Store: fx.Store}
	find := func(id domain.MessageID) (domain.Message, bool) {
		t.Helper()
		m, found, err := messages.Message(context.Background(), room, id)
		if err != nil {
			t.Fatal(err)
		}
		return m, found
	}
	if _, found := find(kept); found {
		t.Fatal("a message of the older journal is found before the backfill")
	}
	for run := 1; run <= 2; run++ {
		counts, err := adapters.BackfillMessages(context.Background(), fx.Store, 3)
		if err != nil || counts != (adapters.BackfillCounts{Posted: 2, Deleted: 1}) {
			t.Fatalf("run %d: backfill = %+v, %v; want 2 posted, 1 deleted", run, counts, err)
		}
		if m, found := find(kept); !found || m != (domain.Message{ID: kept, Room: room, Author: "bob"}) {
			t.Errorf("run %d: kept message = %+v, %t", run, m, found)
		}
		if m, found := find(deleted); !found || !m.Deleted || m.Author != alice {
			t.Errorf("run %d: deleted message = %+v, %t", run, m, found)
		}
	}
}
