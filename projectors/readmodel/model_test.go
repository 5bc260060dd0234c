package readmodel_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/schemas"
)

const (
	alice = "acct-alice"
	bob   = "acct-bob"
	carol = "acct-carol"
	room1 = "room-01KAG7VWM093F33VKM1SAHA58F"
	room2 = "room-01KAG7VWM093F33VKM1SAHA58G"
	msg1  = "msg-01KAG90GG03HA03CNWTXWDB5M1"
	msg2  = "msg-01KAG90GG03HA03CNWTXWDB5M2"
	msg3  = "msg-01KAG90GG03HA03CNWTXWDB5M3"
)

// orders are the arrival orders every case is folded in: the journal's, and each topic drained before the
// other. Each keeps the order within an aggregate, as Kafka does; the model must not depend on the rest.
var orders = map[string]func([]schemas.Envelope) []schemas.Envelope{
	"journal order":  slices.Clone[[]schemas.Envelope],
	"accounts first": topicFirst(schemas.AggregateTypeAccount),
	"rooms first":    topicFirst(schemas.AggregateTypeRoom),
}

func topicFirst(aggregateType string) func([]schemas.Envelope) []schemas.Envelope {
	return func(events []schemas.Envelope) []schemas.Envelope {
		out := slices.Clone(events)
		slices.SortStableFunc(out, func(a, b schemas.Envelope) int {
			return boolInt(a.AggregateType != aggregateType) - boolInt(b.AggregateType != aggregateType)
		})
		return out
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestApplyFoldsEveryEventType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// build records the events in a journal and returns the model they must fold into.
		build func(j *journal) *readmodel.Model
	}{
		{"AccountRegistered then AccountRenamed", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.renameAccount(alice, "Alice Tanaka")
			j.register(bob, "ボブ")
			return model([]readmodel.Account{{ID: alice, Name: "Alice Tanaka", Version: 2}, {ID: bob, Name: "ボブ", Version: 1}}, nil, nil)
		}},
		{"RoomCreated makes the creator an admin member", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.createRoom(room1, "general", alice)
			return model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}},
				[]readmodel.Room{{ID: room1, Name: "general", Version: 1,
					Members: members(readmodel.Member{AccountID: alice, Name: "Alice", Role: schemas.RoleAdmin})}}, nil)
		}},
		{"a member whose account is unknown has no name", func(j *journal) *readmodel.Model {
			j.createRoom(room1, "general", alice)
			return model(nil, []readmodel.Room{{ID: room1, Name: "general", Version: 1,
				Members: members(readmodel.Member{AccountID: alice, Role: schemas.RoleAdmin})}}, nil)
		}},
		{"MemberAdded v2 keeps the role, v1 is upcast to a plain member", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.register(bob, "Bob")
			j.register(carol, "Carol")
			j.createRoom(room1, "general", alice)
			j.addMember(room1, bob, schemas.RoleAdmin, alice)
			j.add(schemas.TypeMemberAdded, room1, schemas.MemberAddedV1{AccountID: carol, AddedBy: bob})
			return model(
				[]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}, {ID: bob, Name: "Bob", Version: 1}, {ID: carol, Name: "Carol", Version: 1}},
				[]readmodel.Room{{ID: room1, Name: "general", Version: 3, Members: members(
					readmodel.Member{AccountID: alice, Name: "Alice", Role: schemas.RoleAdmin},
					readmodel.Member{AccountID: bob, Name: "Bob", Role: schemas.RoleAdmin},
					readmodel.Member{AccountID: carol, Name: "Carol", Role: schemas.RoleMember})}}, nil)
		}},
		{"MemberRemoved removes the member but not its messages", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.register(bob, "Bob")
			j.createRoom(room1, "general", alice)
			j.addMember(room1, bob, schemas.RoleMember, alice)
			posted := j.post(room1, msg1, bob, "hello")
			j.add(schemas.TypeMemberRemoved, room1, schemas.MemberRemovedV1{AccountID: bob, RemovedBy: alice})
			return model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}, {ID: bob, Name: "Bob", Version: 1}},
				[]readmodel.Room{{ID: room1, Name: "general", Version: 4, LastMessageAt: posted.OccurredAt,
					Members: members(readmodel.Member{AccountID: alice, Name: "Alice", Role: schemas.RoleAdmin})}},
				[]readmodel.Message{{ID: msg1, RoomID: room1, RoomName: "general", SenderID: bob, SenderName: "Bob",
					Text: "hello", PostedAt: posted.OccurredAt}})
		}},
		{"MessagePosted then MessageEdited twice", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.createRoom(room1, "general", alice)
			posted := j.post(room1, msg1, alice, "明日の会議は10時からです")
			j.add(schemas.TypeMessageEdited, room1, schemas.MessageEditedV1{MessageID: msg1, Text: "first edit", EditedBy: alice})
			edited := j.add(schemas.TypeMessageEdited, room1, schemas.MessageEditedV1{MessageID: msg1, Text: "明日の会議は11時からです", EditedBy: alice})
			return model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}},
				[]readmodel.Room{{ID: room1, Name: "general", Version: 4, LastMessageAt: posted.OccurredAt,
					Members: members(readmodel.Member{AccountID: alice, Name: "Alice", Role: schemas.RoleAdmin})}},
				[]readmodel.Message{{ID: msg1, RoomID: room1, RoomName: "general", SenderID: alice, SenderName: "Alice",
					Text: "明日の会議は11時からです", PostedAt: posted.OccurredAt, EditedAt: edited.OccurredAt}})
		}},
		{"MessageDeleted removes the message and keeps LastMessageAt", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.createRoom(room1, "general", alice)
			first := j.post(room1, msg1, alice, "one")
			last := j.post(room1, msg2, alice, "two")
			j.add(schemas.TypeMessageDeleted, room1, schemas.MessageDeletedV1{MessageID: msg2, DeletedBy: alice})
			return model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}},
				[]readmodel.Room{{ID: room1, Name: "general", Version: 4, LastMessageAt: last.OccurredAt,
					Members: members(readmodel.Member{AccountID: alice, Name: "Alice", Role: schemas.RoleAdmin})}},
				[]readmodel.Message{{ID: msg1, RoomID: room1, RoomName: "general", SenderID: alice, SenderName: "Alice",
					Text: "one", PostedAt: first.OccurredAt}})
		}},
		{"RoomRenamed renames the room of its messages, before and after they are posted", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.createRoom(room1, "general", alice)
			j.renameRoom(room1, "random", alice)
			first := j.post(room1, msg1, alice, "one")
			j.renameRoom(room1, "雑談", alice)
			second := j.post(room1, msg2, alice, "two")
			return model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}},
				[]readmodel.Room{{ID: room1, Name: "雑談", Version: 5, LastMessageAt: second.OccurredAt,
					Members: members(readmodel.Member{AccountID: alice, Name: "Alice", Role: schemas.RoleAdmin})}},
				[]readmodel.Message{
					{ID: msg1, RoomID: room1, RoomName: "雑談", SenderID: alice, SenderName: "Alice", Text: "one", PostedAt: first.OccurredAt},
					{ID: msg2, RoomID: room1, RoomName: "雑談", SenderID: alice, SenderName: "Alice", Text: "two", PostedAt: second.OccurredAt},
				})
		}},
		{"AccountRenamed renames the account's members and messages in every room", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.register(bob, "Bob")
			j.createRoom(room1, "general", alice)
			j.createRoom(room2, "dev", bob)
			j.addMember(room1, bob, schemas.RoleMember, alice)
			first := j.post(room1, msg1, bob, "one")
			j.renameAccount(bob, "Robert")
			second := j.post(room2, msg2, bob, "two")
			third := j.post(room1, msg3, alice, "three")
			j.renameAccount(bob, "ロバート")
			return model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}, {ID: bob, Name: "ロバート", Version: 3}},
				[]readmodel.Room{
					{ID: room1, Name: "general", Version: 4, LastMessageAt: third.OccurredAt, Members: members(
						readmodel.Member{AccountID: alice, Name: "Alice", Role: schemas.RoleAdmin},
						readmodel.Member{AccountID: bob, Name: "ロバート", Role: schemas.RoleMember})},
					{ID: room2, Name: "dev", Version: 2, LastMessageAt: second.OccurredAt, Members: members(
						readmodel.Member{AccountID: bob, Name: "ロバート", Role: schemas.RoleAdmin})},
				},
				[]readmodel.Message{
					{ID: msg1, RoomID: room1, RoomName: "general", SenderID: bob, SenderName: "ロバート", Text: "one", PostedAt: first.OccurredAt},
					{ID: msg2, RoomID: room2, RoomName: "dev", SenderID: bob, SenderName: "ロバート", Text: "two", PostedAt: second.OccurredAt},
					{ID: msg3, RoomID: room1, RoomName: "general", SenderID: alice, SenderName: "Alice", Text: "three", PostedAt: third.OccurredAt},
				})
		}},
		{"RoomDeleted removes the room with its messages only", func(j *journal) *readmodel.Model {
			j.register(alice, "Alice")
			j.createRoom(room1, "general", alice)
			j.createRoom(room2, "dev", alice)
			j.post(room1, msg1, alice, "gone")
			kept := j.post(room2, msg2, alice, "kept")
			j.add(schemas.TypeRoomDeleted, room1, schemas.RoomDeletedV1{DeletedBy: alice})
			j.renameAccount(alice, "Alicia")
			return model([]readmodel.Account{{ID: alice, Name: "Alicia", Version: 2}},
				[]readmodel.Room{{ID: room2, Name: "dev", Version: 2, LastMessageAt: kept.OccurredAt,
					Members: members(readmodel.Member{AccountID: alice, Name: "Alicia", Role: schemas.RoleAdmin})}},
				[]readmodel.Message{{ID: msg2, RoomID: room2, RoomName: "dev", SenderID: alice, SenderName: "Alicia",
					Text: "kept", PostedAt: kept.OccurredAt}})
		}},
	}
	for _, tc := range cases {
		for orderName, order := range orders {
			t.Run(tc.name+"/"+orderName, func(t *testing.T) {
				t.Parallel()
				j := newJournal(t)
				want := tc.build(j)
				assertModel(t, fold(t, order(j.events)), want)
			})
		}
	}
}

func TestApplyIgnoresDuplicatesAndGaps(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.register(alice, "Alice")
	j.register(bob, "Bob")
	j.createRoom(room1, "general", alice)
	j.addMember(room1, bob, schemas.RoleMember, alice)
	j.post(room1, msg1, bob, "hello")
	j.add(schemas.TypeMessageEdited, room1, schemas.MessageEditedV1{MessageID: msg1, Text: "hello again", EditedBy: bob})
	j.renameAccount(bob, "Robert")
	j.createRoom(room2, "dev", alice)
	j.add(schemas.TypeRoomDeleted, room2, schemas.RoomDeletedV1{DeletedBy: alice})
	want := fold(t, j.events)
	otherMessage := json.RawMessage(`{"message_id":"` + msg2 + `","author_id":"` + alice + `","text":"new"}`)

	cases := []struct {
		name  string
		extra func() []schemas.Envelope
	}{
		{"every event again", func() []schemas.Envelope { return j.events }},
		{"every event again, newest first", func() []schemas.Envelope {
			out := slices.Clone(j.events)
			slices.Reverse(out)
			return out
		}},
		{"an event after a gap", func() []schemas.Envelope {
			gap := j.events[4] // MessagePosted seq 3 of room1, as another message
			gap.Seq, gap.Payload = 9, otherMessage
			return []schemas.Envelope{gap}
		}},
		{"a later seq of a deleted room", func() []schemas.Envelope {
			late := j.events[4]
			late.AggregateID, late.Seq, late.Payload = room2, 3, otherMessage
			return []schemas.Envelope{late}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := fold(t, j.events)
			for _, env := range tc.extra() {
				if err := got.Apply(env); err != nil {
					t.Fatalf("Apply(%s seq %d): %v", env.Type, env.Seq, err)
				}
			}
			assertModel(t, got, want)
		})
	}
}

func TestApplyRejectsUndecodableEvents(t *testing.T) {
	t.Parallel()
	valid := newJournal(t).register(alice, "Alice")
	cases := []struct {
		name string
		edit func(env *schemas.Envelope)
		want error
	}{
		{"unknown type", func(env *schemas.Envelope) { env.Type = "AccountBurned" }, schemas.ErrUnknownType},
		{"unknown version", func(env *schemas.Envelope) { env.Version = 7 }, schemas.ErrUnknownVersion},
		{"payload of the wrong shape", func(env *schemas.Envelope) { env.Payload = json.RawMessage(`{"name":5}`) }, schemas.ErrInvalid},
		{"v1 payload that is not an object", func(env *schemas.Envelope) {
			env.Type, env.Version, env.AggregateType, env.AggregateID = schemas.TypeMemberAdded, 1, schemas.AggregateTypeRoom, room1
			env.Payload = json.RawMessage(`[1]`)
		}, schemas.ErrInvalid},
		{"aggregate type of another event type", func(env *schemas.Envelope) { env.AggregateType = schemas.AggregateTypeRoom }, schemas.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bad := valid
			tc.edit(&bad)
			m := readmodel.New()
			if err := m.Apply(bad); !errors.Is(err, tc.want) {
				t.Fatalf("Apply = %v, want %v", err, tc.want)
			}
			assertModel(t, m, readmodel.New())
			// The refused event did not use up seq 1.
			if err := m.Apply(valid); err != nil {
				t.Fatal(err)
			}
			assertModel(t, m, model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}}, nil, nil))
		})
	}
}

func TestApplyToAModelLiteral(t *testing.T) {
	t.Parallel()
	var m readmodel.Model
	if err := m.Apply(newJournal(t).register(alice, "Alice")); err != nil {
		t.Fatal(err)
	}
	assertModel(t, &m, model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 1}}, nil, nil))
}

func TestApplyKeepsTimesInUTC(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.register(alice, "Alice")
	j.createRoom(room1, "general", alice)
	posted := j.post(room1, msg1, alice, "hello")
	jst := time.FixedZone("JST", 9*60*60)
	j.events[2].OccurredAt = posted.OccurredAt.In(jst)
	m := fold(t, j.events)
	if loc := m.Messages[msg1].PostedAt.Location(); loc != time.UTC {
		t.Errorf("PostedAt in %v, want UTC", loc)
	}
	if loc := m.Rooms[room1].LastMessageAt.Location(); loc != time.UTC {
		t.Errorf("LastMessageAt in %v, want UTC", loc)
	}
	if !m.Messages[msg1].PostedAt.Equal(posted.OccurredAt) {
		t.Errorf("PostedAt = %v, want %v", m.Messages[msg1].PostedAt, posted.OccurredAt)
	}
}
