package views

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

var t0 = time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)

// event returns the seq-th event of aggregate id with payload, occurring seq seconds after t0.
func event(id string, seq int64, payload any) projection.Event {
	return projection.Event{
		Envelope: schemas.Envelope{AggregateID: id, Seq: seq, OccurredAt: t0.Add(time.Duration(seq) * time.Second)},
		Payload:  payload,
	}
}

func batchOf(events ...projection.Event) (*pgx.Batch, *statements) {
	c := newChanges()
	for _, ev := range events {
		c.add(ev)
	}
	sql := newStatements(`"s"`)
	return c.statements(&sql), &sql
}

// queued returns the arguments of the queued statement sql, or nil when it is not queued.
func queued(b *pgx.Batch, sql string) []any {
	for _, q := range b.QueuedQueries {
		if q.SQL == sql {
			return q.Arguments
		}
	}
	return nil
}

func TestFoldPostEditDeleteWritesNoMessage(t *testing.T) {
	t.Parallel()
	b, sql := batchOf(
		event("room-1", 5, &schemas.MessagePostedV1{MessageID: "m1", AuthorID: "a", Text: "hi"}),
		event("room-1", 6, &schemas.MessageEditedV1{MessageID: "m1", Text: "hello"}),
		event("room-1", 7, &schemas.MessageDeletedV1{MessageID: "m1"}),
	)
	for _, s := range []string{sql.insertMessages, sql.editMessages, sql.deleteMessages, sql.insertUnknownNames} {
		if args := queued(b, s); args != nil {
			t.Errorf("queued %q with %v, want nothing", s, args)
		}
	}
	args := queued(b, sql.updateRooms)
	if args == nil {
		t.Fatal("room not updated")
	}
	if last := args[2].([]*time.Time); len(last) != 1 || !last[0].Equal(t0.Add(5*time.Second)) {
		t.Errorf("last_message_at = %v, want the post's time", last)
	}
	if v := args[3].([]int64); len(v) != 1 || v[0] != 7 {
		t.Errorf("version = %v, want [7]", v)
	}
}

func TestFoldManyPostsOneRoomUpdate(t *testing.T) {
	t.Parallel()
	var events []projection.Event
	for i := range int64(50) {
		events = append(events, event("room-1", i+1, &schemas.MessagePostedV1{
			MessageID: "m" + string(rune('A'+i)), AuthorID: "a", Text: "x"}))
	}
	events = append(events, event("room-1", 51, &schemas.MessageEditedV1{MessageID: "mA", Text: "edited"}))
	b, sql := batchOf(events...)
	upd := queued(b, sql.updateRooms)
	if ids := upd[0].([]string); len(ids) != 1 {
		t.Fatalf("room updates %v, want one", ids)
	}
	if last := upd[2].([]*time.Time); !last[0].Equal(t0.Add(50 * time.Second)) {
		t.Errorf("last_message_at = %v, want the 50th post's", last[0])
	}
	ins := queued(b, sql.insertMessages)
	if ids := ins[0].([]string); len(ids) != 50 {
		t.Fatalf("%d messages inserted, want 50", len(ids))
	}
	if texts, edited := ins[3].([]string), ins[5].([]*time.Time); texts[0] != "edited" || edited[0] == nil {
		t.Errorf("message mA inserted with %q edited at %v, want its edit folded in", texts[0], edited[0])
	}
	if queued(b, sql.editMessages) != nil {
		t.Error("an edit of a message posted in the batch was queued as an update")
	}
	if len(b.QueuedQueries) != 4 { // names placeholder, share lock, insert messages, update rooms
		t.Errorf("%d statements queued, want 4", len(b.QueuedQueries))
	}
}

func TestFoldDeletedRoomDropsItsChanges(t *testing.T) {
	t.Parallel()
	b, sql := batchOf(
		event("room-1", 1, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"}),
		event("room-1", 2, &schemas.MemberAddedV2{AccountID: "b", Role: schemas.RoleMember}),
		event("room-1", 3, &schemas.MessagePostedV1{MessageID: "m1", AuthorID: "a", Text: "hi"}),
		event("room-1", 4, &schemas.RoomDeletedV1{}),
		event("room-1", 5, &schemas.RoomRenamedV1{Name: "ghost"}),
	)
	for _, s := range []string{sql.insertRooms, sql.updateRooms, sql.upsertMembers, sql.insertMessages} {
		if args := queued(b, s); args != nil {
			t.Errorf("queued %q with %v for a deleted room", s, args)
		}
	}
	if args := queued(b, sql.deleteRooms); args == nil || len(args[0].([]string)) != 1 {
		t.Errorf("delete rooms = %v, want room-1", args)
	}
}
