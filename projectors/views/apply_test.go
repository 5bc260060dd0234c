package views_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/views"
	"github.com/cqrses-aws/pipeline/schemas"
)

// everyEventType is a journal that uses every event type, MemberAdded v1 included.
func everyEventType(tb testing.TB) (*journal, []projection.Event) {
	j := newJournal(tb)
	events := []projection.Event{
		j.register("acc-a", "Alice"),
		j.register("acc-b", "Bob"),
		j.createRoom("room-1", "general", "acc-a"),
		j.addMemberV1("room-1", "acc-b"),
		j.addMember("room-1", "acc-c", schemas.RoleAdmin),
		j.post("room-1", "msg-1", "acc-a", "hello"),
		j.post("room-1", "msg-2", "acc-b", "hi"),
		j.post("room-1", "msg-3", "acc-c", "hey"),
		j.edit("room-1", "msg-1", "hello, world"),
		j.deleteMessage("room-1", "msg-2"),
		j.renameRoom("room-1", "lobby"),
		j.removeMember("room-1", "acc-c"),
		j.renameAccount("acc-b", "Robert"),
		j.register("acc-c", "Carol"),
		j.createRoom("room-2", "doomed", "acc-b"),
		j.addMember("room-2", "acc-a", schemas.RoleMember),
		j.post("room-2", "msg-4", "acc-a", "bye"),
		j.deleteRoom("room-2"),
	}
	return j, events
}

func TestApplyEveryEventType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		batch int
	}{
		{"one event per batch", 1},
		{"three events per batch", 3},
		{"one batch", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := newPool(t)
			p := newProjection(t, pool)
			target := open(t, p, 1)
			j, events := everyEventType(t)
			applyInBatches(t, target, events, tc.batch)

			want := j.model()
			if got := want.Rooms["room-1"].Members["acc-b"]; got.Role != schemas.RoleMember || got.Name != "Robert" {
				t.Fatalf("reference member acc-b = %+v, want role member (upcast v1) named Robert", got)
			}
			if _, ok := want.Rooms["room-2"]; ok {
				t.Fatal("reference kept the deleted room")
			}
			assertModel(t, pool, p, 1, want)
			var count int
			if err := pool.QueryRow(testContext(t), "SELECT member_count FROM "+target.(*views.Target).Schema()+
				".rooms WHERE id = 'room-1'").Scan(&count); err != nil || count != 2 {
				t.Fatalf("member_count of room-1 = %d (%v), want 2", count, err)
			}
		})
	}
}

func TestApplySameBatchTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	p := newProjection(t, pool)
	target := open(t, p, 1)
	j, events := everyEventType(t)
	applyBatch(t, target, events[:9])
	applyBatch(t, target, events[9:])
	before := rowVersions(t, pool, p.Name()+"_v1")

	// A redelivery of both batches, each in a new transaction, without the runner's duplicate filter.
	ctx := testContext(t)
	for _, batch := range [][]projection.Event{events[:9], events[9:], events} {
		tx, err := target.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Apply(ctx, batch); err != nil {
			t.Fatalf("apply again: %v", err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	assertModel(t, pool, p, 1, j.model())
	after := rowVersions(t, pool, p.Name()+"_v1")
	if len(before) != len(after) {
		t.Fatalf("%d rows before, %d after", len(before), len(after))
	}
	for row, xmin := range before {
		if after[row] != xmin {
			t.Errorf("row %s was written again (xmin %s → %s)", row, xmin, after[row])
		}
	}
}

// rowVersions returns the xmin of every model row of schema: a row written again gets a new one.
func rowVersions(tb testing.TB, pool *pgxpool.Pool, schema string) map[string]string {
	tb.Helper()
	s := pgx.Identifier{schema}.Sanitize()
	rows, _ := pool.Query(testContext(tb), `
		SELECT 'account/' || id, xmin::text FROM `+s+`.accounts
		UNION ALL SELECT 'room/' || id, xmin::text FROM `+s+`.rooms
		UNION ALL SELECT 'member/' || room_id || '/' || account_id, xmin::text FROM `+s+`.members
		UNION ALL SELECT 'message/' || id, xmin::text FROM `+s+`.messages`)
	versions := map[string]string{}
	var row, xmin string
	if _, err := pgx.ForEachRow(rows, []any{&row, &xmin}, func() error { versions[row] = xmin; return nil }); err != nil {
		tb.Fatalf("read row versions: %v", err)
	}
	if len(versions) == 0 {
		tb.Fatal("no rows")
	}
	return versions
}
