package domain_test

import (
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

type roomCase struct {
	name   string
	room   func(testing.TB) *domain.Room
	cmd    func(*domain.Room) ([]domain.Event, error)
	events []domain.Event
	err    error
	field  string
}

// runRoomCases runs each command on its room and checks the decision, that the room did not change, and that
// decided events apply.
func runRoomCases(t *testing.T, cases []roomCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.room(t)
			before := snapshotOf(t, r)
			events, err := tc.cmd(r)
			checkDecision(t, events, err, tc.events, tc.err, tc.field)
			unchanged(t, before, r)
			if err == nil {
				if err := r.ApplyAll(events); err != nil {
					t.Errorf("decided events do not apply: %v", err)
				}
			}
		})
	}
}

func noRoom(testing.TB) *domain.Room { return &domain.Room{} }

func TestRoomCreate(t *testing.T) {
	t.Parallel()
	runRoomCases(t, []roomCase{
		{"create", noRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Create("room-1", "general", "alice") },
			[]domain.Event{domain.RoomCreated{Name: "general", CreatedBy: "alice"}}, nil, ""},
		{"create with 80 characters", noRoom,
			func(r *domain.Room) ([]domain.Event, error) {
				return r.Create("room-1", strings.Repeat("会", 80), "alice")
			},
			[]domain.Event{domain.RoomCreated{Name: strings.Repeat("会", 80), CreatedBy: "alice"}}, nil, ""},
		{"create with 81 characters", noRoom,
			func(r *domain.Room) ([]domain.Event, error) {
				return r.Create("room-1", strings.Repeat("会", 81), "alice")
			},
			nil, domain.ErrInvalid, "name"},
		{"create with a newline", noRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Create("room-1", "a\nb", "alice") },
			nil, domain.ErrInvalid, "name"},
		{"create without id", noRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Create("", "general", "alice") },
			nil, domain.ErrInvalid, "room_id"},
		{"create under another id", func(testing.TB) *domain.Room { return domain.NewRoom("room-1") },
			func(r *domain.Room) ([]domain.Event, error) { return r.Create("room-2", "general", "alice") },
			nil, domain.ErrInvalid, "room_id"},
		{"create without creator", noRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Create("room-1", "general", "") },
			nil, domain.ErrInvalid, "account_id"},
		{"create twice", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Create("room-1", "general", "alice") },
			nil, domain.ErrAlreadyExists, ""},
		{"create after deletion", deletedRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.Create("room-1", "general", "alice") },
			nil, domain.ErrAlreadyExists, ""},
	})
}

func TestRoomRenameAndDelete(t *testing.T) {
	t.Parallel()
	runRoomCases(t, []roomCase{
		{"rename", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Rename("random", "alice") },
			[]domain.Event{domain.RoomRenamed{Name: "random", RenamedBy: "alice"}}, nil, ""},
		{"rename by a member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Rename("random", "bob") },
			nil, domain.ErrForbidden, ""},
		{"rename by a non-member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Rename("random", "eve") },
			nil, domain.ErrNotFound, ""},
		{"rename a room that does not exist", noRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Rename("random", "alice") },
			nil, domain.ErrNotFound, ""},
		{"invalid name before existence", noRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Rename("a\u0007b", "alice") },
			nil, domain.ErrInvalid, "name"},
		{"rename a deleted room", deletedRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Rename("random", "alice") },
			nil, domain.ErrRoomDeleted, ""},
		{"deletion before permission", deletedRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Rename("random", "bob") },
			nil, domain.ErrRoomDeleted, ""},
		{"a deleted room stays hidden from non-members", deletedRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.Rename("random", "eve") }, nil, domain.ErrNotFound, ""},
		{"delete", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Delete("alice") },
			[]domain.Event{domain.RoomDeleted{DeletedBy: "alice"}}, nil, ""},
		{"delete by a member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Delete("bob") },
			nil, domain.ErrForbidden, ""},
		{"delete by a non-member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Delete("eve") },
			nil, domain.ErrNotFound, ""},
		{"delete twice", deletedRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Delete("alice") },
			nil, domain.ErrRoomDeleted, ""},
		{"delete a room that does not exist", noRoom, func(r *domain.Room) ([]domain.Event, error) { return r.Delete("alice") },
			nil, domain.ErrNotFound, ""},
	})
}

func TestRoomMembership(t *testing.T) {
	t.Parallel()
	runRoomCases(t, []roomCase{
		{"add a member", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("dave", domain.RoleMember, "alice") },
			[]domain.Event{domain.MemberAdded{AccountID: "dave", Role: domain.RoleMember, AddedBy: "alice"}}, nil, ""},
		{"add an admin", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("dave", domain.RoleAdmin, "alice") },
			[]domain.Event{domain.MemberAdded{AccountID: "dave", Role: domain.RoleAdmin, AddedBy: "alice"}}, nil, ""},
		{"add with an unknown role", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("dave", "owner", "alice") }, nil, domain.ErrInvalid, "role"},
		{"add without account", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("", domain.RoleMember, "alice") },
			nil, domain.ErrInvalid, "account_id"},
		{"add by a member", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("dave", domain.RoleMember, "bob") },
			nil, domain.ErrForbidden, ""},
		{"add by a non-member", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("dave", domain.RoleMember, "eve") },
			nil, domain.ErrNotFound, ""},
		{"add a member twice", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("bob", domain.RoleAdmin, "alice") },
			nil, domain.ErrAlreadyMember, ""},
		{"add to a deleted room", deletedRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("dave", domain.RoleMember, "alice") },
			nil, domain.ErrRoomDeleted, ""},
		{"add to a room that does not exist", noRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("dave", domain.RoleMember, "alice") },
			nil, domain.ErrNotFound, ""},
		{"remove a member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("bob", "alice") },
			[]domain.Event{domain.MemberRemoved{AccountID: "bob", RemovedBy: "alice"}}, nil, ""},
		{"remove without account", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("", "alice") },
			nil, domain.ErrInvalid, "account_id"},
		{"remove a non-member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("eve", "alice") },
			nil, domain.ErrNotMember, ""},
		{"remove by a member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("carol", "bob") },
			nil, domain.ErrForbidden, ""},
		{"a member cannot leave alone", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("bob", "bob") },
			nil, domain.ErrForbidden, ""},
		{"remove by a non-member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("bob", "eve") },
			nil, domain.ErrNotFound, ""},
		{"the last admin cannot leave", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("alice", "alice") },
			nil, domain.ErrLastAdmin, ""},
		{"an admin leaves when another stays", twoAdminRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("alice", "alice") },
			[]domain.Event{domain.MemberRemoved{AccountID: "alice", RemovedBy: "alice"}}, nil, ""},
		{"an admin removes another admin", twoAdminRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("alice", "dave") },
			[]domain.Event{domain.MemberRemoved{AccountID: "alice", RemovedBy: "dave"}}, nil, ""},
		{"remove from a deleted room", deletedRoom, func(r *domain.Room) ([]domain.Event, error) { return r.RemoveMember("bob", "alice") },
			nil, domain.ErrRoomDeleted, ""},
	})
}

func TestRoomMessages(t *testing.T) {
	t.Parallel()
	runRoomCases(t, []roomCase{
		{"post", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, "hello", "bob") },
			[]domain.Event{domain.MessagePosted{MessageID: msgNew, AuthorID: "bob", Text: "hello"}}, nil, ""},
		{"post by an admin", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, "a\n\tb", "alice") },
			[]domain.Event{domain.MessagePosted{MessageID: msgNew, AuthorID: "alice", Text: "a\n\tb"}}, nil, ""},
		{"post 10,000 characters", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) {
				return r.PostMessage(msgNew, strings.Repeat("あ", 10_000), "bob")
			},
			[]domain.Event{domain.MessagePosted{MessageID: msgNew, AuthorID: "bob", Text: strings.Repeat("あ", 10_000)}}, nil, ""},
		{"post 10,001 characters", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) {
				return r.PostMessage(msgNew, strings.Repeat("あ", 10_001), "bob")
			},
			nil, domain.ErrInvalid, "text"},
		{"post invalid UTF-8", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, "a\xffb", "bob") },
			nil, domain.ErrInvalid, "text"},
		{"post a bell", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, "a\u0007b", "bob") },
			nil, domain.ErrInvalid, "text"},
		{"post whitespace", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, " \n\t", "bob") },
			nil, domain.ErrInvalid, "text"},
		{"post without message id", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage("", "hi", "bob") },
			nil, domain.ErrInvalid, "message_id"},
		{"post by a non-member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, "hi", "eve") },
			nil, domain.ErrNotFound, ""},
		{"post to a room that does not exist", noRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, "hi", "bob") }, nil, domain.ErrNotFound, ""},
		{"post to a deleted room", deletedRoom, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, "hi", "bob") },
			nil, domain.ErrRoomDeleted, ""},
		{"edit", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgBob), "hello again", "bob") },
			[]domain.Event{domain.MessageEdited{MessageID: msgBob, Text: "hello again", EditedBy: "bob"}}, nil, ""},
		{"edit another's message", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgBob), "x", "carol") },
			nil, domain.ErrForbidden, ""},
		{"an admin cannot edit another's message", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgBob), "x", "alice") }, nil, domain.ErrForbidden, ""},
		{"edit an unknown message", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgUnknown), "x", "bob") }, nil, domain.ErrNotFound, ""},
		{"edit a message of another room", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msgElsewhere, "x", "bob") }, nil, domain.ErrNotFound, ""},
		{"delete a message of another room", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msgElsewhere, "alice") }, nil, domain.ErrNotFound, ""},
		{"edit a deleted message", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgDeleted), "x", "bob") }, nil, domain.ErrNotFound, ""},
		{"edit with invalid text", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgBob), "", "bob") },
			nil, domain.ErrInvalid, "text"},
		{"edit without message id", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(""), "x", "bob") },
			nil, domain.ErrInvalid, "message_id"},
		{"edit by a non-member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgBob), "x", "eve") },
			nil, domain.ErrNotFound, ""},
		{"edit in a deleted room", deletedRoom, func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgBob), "x", "bob") },
			nil, domain.ErrRoomDeleted, ""},
		{"delete own message", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(msgBob), "bob") },
			[]domain.Event{domain.MessageDeleted{MessageID: msgBob, DeletedBy: "bob"}}, nil, ""},
		{"an admin deletes any message", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(msgCarol), "alice") },
			[]domain.Event{domain.MessageDeleted{MessageID: msgCarol, DeletedBy: "alice"}}, nil, ""},
		{"a member cannot delete another's message", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(msgCarol), "bob") }, nil, domain.ErrForbidden, ""},
		{"delete an unknown message", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(msgUnknown), "alice") }, nil, domain.ErrNotFound, ""},
		{"delete a message twice", liveRoom,
			func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(msgDeleted), "bob") }, nil, domain.ErrNotFound, ""},
		{"delete without message id", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(""), "bob") },
			nil, domain.ErrInvalid, "message_id"},
		{"delete by a non-member", liveRoom, func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(msgBob), "eve") },
			nil, domain.ErrNotFound, ""},
		{"delete in a deleted room", deletedRoom, func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(msgBob), "bob") },
			nil, domain.ErrRoomDeleted, ""},
	})
}

// TestRemovedMemberLosesAccess checks that a removed author can no longer touch the room or their messages.
func TestRemovedMemberLosesAccess(t *testing.T) {
	t.Parallel()
	removed := func(tb testing.TB) *domain.Room {
		return foldRoom(tb, append(liveEvents(), domain.MemberRemoved{AccountID: "bob", RemovedBy: "alice"})...)
	}
	runRoomCases(t, []roomCase{
		{"edit", removed, func(r *domain.Room) ([]domain.Event, error) { return r.EditMessage(msg(msgBob), "x", "bob") }, nil, domain.ErrNotFound, ""},
		{"post", removed, func(r *domain.Room) ([]domain.Event, error) { return r.PostMessage(msgNew, "x", "bob") }, nil, domain.ErrNotFound, ""},
		{"the admin still deletes the message", removed,
			func(r *domain.Room) ([]domain.Event, error) { return r.DeleteMessage(msg(msgBob), "alice") },
			[]domain.Event{domain.MessageDeleted{MessageID: msgBob, DeletedBy: "alice"}}, nil, ""},
		{"re-added", removed, func(r *domain.Room) ([]domain.Event, error) { return r.AddMember("bob", domain.RoleAdmin, "alice") },
			[]domain.Event{domain.MemberAdded{AccountID: "bob", Role: domain.RoleAdmin, AddedBy: "alice"}}, nil, ""},
	})
}
