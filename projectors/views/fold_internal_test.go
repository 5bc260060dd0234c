package views

import (
	"testing"
	"time"

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

// planOf folds events and plans their writes as if every room they name existed and nothing else did.
func planOf(events ...projection.Event) *writes {
	c := newChanges()
	for _, ev := range events {
		c.add(ev)
	}
	st := &stored{names: map[string]string{}, members: map[memberKey]bool{}}
	w := c.planRooms(st)
	live := map[string]bool{}
	for id := range c.rooms {
		live[id] = true
	}
	c.planRows(w, st, live)
	return w
}

func TestFoldPostEditDeleteWritesNoMessage(t *testing.T) {
	t.Parallel()
	w := planOf(
		event("room-1", 5, &schemas.MessagePostedV1{MessageID: "m1", AuthorID: "a", Text: "hi"}),
		event("room-1", 6, &schemas.MessageEditedV1{MessageID: "m1", Text: "hello"}),
		event("room-1", 7, &schemas.MessageDeletedV1{MessageID: "m1"}),
	)
	if len(w.newMessages) > 0 || len(w.editIDs) > 0 || len(w.delMessages) > 0 {
		t.Errorf("message writes: new %v, edits %v, deletes %v; want none", w.newMessages, w.editIDs, w.delMessages)
	}
	if len(w.rooms.ids) != 1 || w.rooms.versions[0] != 7 || !w.rooms.lastMessageAt[0].Equal(t0.Add(5*time.Second)) {
		t.Errorf("room updates %v versions %v last %v; want room-1 at 7, last message at the post",
			w.rooms.ids, w.rooms.versions, w.rooms.lastMessageAt)
	}
	sql := newStatements(`"s"`)
	if n := w.roomBatch(&sql).Len() + w.rowBatch(&sql).Len(); n != 0 {
		t.Errorf("%d statements besides the room's update, want none", n)
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
	w := planOf(events...)
	if len(w.rooms.ids) != 1 || !w.rooms.lastMessageAt[0].Equal(t0.Add(50*time.Second)) {
		t.Fatalf("room updates %v last %v; want one, at the 50th post", w.rooms.ids, w.rooms.lastMessageAt)
	}
	if len(w.newMessages) != 50 {
		t.Fatalf("%d messages copied, want 50", len(w.newMessages))
	}
	if first := w.newMessages[0]; first[4] != "edited" || first[6] == nil {
		t.Errorf("message mA copied as %v, want its edit folded in", first)
	}
	if len(w.editIDs) > 0 {
		t.Errorf("edits %v of a message posted in the batch, want none", w.editIDs)
	}
}

func TestFoldDeletedRoomDropsItsChanges(t *testing.T) {
	t.Parallel()
	w := planOf(
		event("room-1", 1, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"}),
		event("room-1", 2, &schemas.MemberAddedV2{AccountID: "b", Role: schemas.RoleMember}),
		event("room-1", 3, &schemas.MessagePostedV1{MessageID: "m1", AuthorID: "a", Text: "hi"}),
		event("room-1", 4, &schemas.RoomDeletedV1{}),
		event("room-1", 5, &schemas.RoomRenamedV1{Name: "ghost"}),
	)
	if len(w.createdRooms) > 0 || len(w.rooms.ids) > 0 || len(w.upMemberRooms) > 0 || len(w.newMessages) > 0 {
		t.Errorf("writes for a deleted room: %+v", w)
	}
	if len(w.deletedRooms) != 1 {
		t.Errorf("deleted rooms %v, want room-1", w.deletedRooms)
	}
}

func TestFoldMemberCountMovesByActualChanges(t *testing.T) {
	t.Parallel()
	c := newChanges()
	for _, ev := range []projection.Event{
		event("room-1", 4, &schemas.MemberAddedV2{AccountID: "new", Role: schemas.RoleMember}),
		event("room-1", 5, &schemas.MemberAddedV2{AccountID: "old", Role: schemas.RoleAdmin}),
		event("room-1", 6, &schemas.MemberRemovedV1{AccountID: "gone"}),
		event("room-1", 7, &schemas.MemberRemovedV1{AccountID: "never"}),
	} {
		c.add(ev)
	}
	st := &stored{names: map[string]string{"new": "New"},
		members: map[memberKey]bool{{"room-1", "old"}: true, {"room-1", "gone"}: true}}
	w := c.planRooms(st)
	c.planRows(w, st, map[string]bool{"room-1": true})
	if len(w.rooms.membersDelta) != 1 || w.rooms.membersDelta[0] != 0 {
		t.Errorf("member delta %v, want [0] (one added, one removed, one role change, one no-op)", w.rooms.membersDelta)
	}
	if len(w.delMemberAccounts) != 1 || w.delMemberAccounts[0] != "gone" {
		t.Errorf("deleted members %v, want [gone]", w.delMemberAccounts)
	}
	if len(w.upMemberNames) != 2 || w.upMemberNames[0] != "New" {
		t.Errorf("upserted member names %v, want New first", w.upMemberNames)
	}
}

// TestWhatTheViewsCanNeverStore: an event type the fold does not handle and a NUL character (Postgres text refuses
// it) can never apply, so Apply answers projection.PermanentError for them; an escaped backslash before "u0000"
// is ordinary text.
func TestWhatTheViewsCanNeverStore(t *testing.T) {
	t.Parallel()
	type unknownPayload struct{}
	withRaw := func(raw string) projection.Event {
		ev := event("room-1", 2, &schemas.MessagePostedV1{MessageID: "m", Text: "x"})
		ev.Envelope.Payload = []byte(raw)
		return ev
	}
	for _, tc := range []struct {
		name string
		ev   projection.Event
		ok   bool
	}{
		{"a handled type", withRaw(`{"message_id":"m","text":"hello"}`), true},
		{"an escaped backslash then u0000", withRaw(`{"message_id":"m","text":"C:\\u0000"}`), true},
		{"an escaped NUL", withRaw(`{"message_id":"m","text":"a\u0000b"}`), false},
		{"a type the fold does not handle", event("room-1", 2, &unknownPayload{}), false},
	} {
		if err := storable(tc.ev); (err == nil) != tc.ok {
			t.Errorf("%s: storable = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
