package domain_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

func TestRoomFold(t *testing.T) {
	t.Parallel()
	r := &domain.Room{}
	if r.Exists() || r.Deleted() || r.Version() != 0 || len(r.Members()) != 0 {
		t.Fatalf("zero room: exists %t, deleted %t, version %d, members %v", r.Exists(), r.Deleted(), r.Version(), r.Members())
	}
	r = liveRoom(t)
	if !r.Exists() || r.Deleted() || r.Name() != "general" || r.Version() != int64(len(liveEvents())) || r.ID() != "room-1" {
		t.Errorf("live room: exists %t, deleted %t, name %q, version %d, id %q", r.Exists(), r.Deleted(), r.Name(), r.Version(), r.ID())
	}
	want := []domain.Member{{"alice", domain.RoleAdmin}, {"bob", domain.RoleMember}, {"carol", domain.RoleMember}}
	if got := r.Members(); !reflect.DeepEqual(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
	if role, ok := r.Member("alice"); !ok || role != domain.RoleAdmin {
		t.Errorf("Member(alice) = %q, %t", role, ok)
	}
	if _, ok := r.Member("eve"); ok {
		t.Error("eve is a member")
	}

	more := []domain.Event{
		domain.RoomRenamed{Name: "random", RenamedBy: "alice"},
		domain.MemberRemoved{AccountID: "carol", RemovedBy: "alice"},
		domain.RoomDeleted{DeletedBy: "alice"},
	}
	if err := r.ApplyAll(more); err != nil {
		t.Fatal(err)
	}
	if r.Name() != "random" || !r.Deleted() || !r.Exists() || r.Version() != int64(len(liveEvents())+3) {
		t.Errorf("after more: name %q, deleted %t, exists %t, version %d", r.Name(), r.Deleted(), r.Exists(), r.Version())
	}
	if _, ok := r.Member("carol"); ok {
		t.Error("carol is still a member")
	}
	if _, ok := r.Member("bob"); !ok {
		t.Error("a deleted room forgot its members")
	}
}

func TestRoomApplyErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		room  func(testing.TB) *domain.Room
		event domain.Event
		want  error
	}{
		{"renamed before created", noRoom, domain.RoomRenamed{Name: "x", RenamedBy: "alice"}, domain.ErrInvalidEvent},
		{"message after deletion", deletedRoom, domain.MessagePosted{MessageID: msgNew, AuthorID: "bob", Text: "hi"}, domain.ErrInvalidEvent},
		{"message before created", noRoom, domain.MessagePosted{MessageID: msgNew, AuthorID: "bob", Text: "hi"}, domain.ErrInvalidEvent},
		{"created twice", liveRoom, domain.RoomCreated{Name: "again", CreatedBy: "bob"}, domain.ErrInvalidEvent},
		{"event after deletion", deletedRoom, domain.RoomRenamed{Name: "x", RenamedBy: "alice"}, domain.ErrInvalidEvent},
		{"deleted twice", deletedRoom, domain.RoomDeleted{DeletedBy: "alice"}, domain.ErrInvalidEvent},
		{"member added twice", liveRoom, domain.MemberAdded{AccountID: "bob", Role: domain.RoleAdmin, AddedBy: "alice"}, domain.ErrInvalidEvent},
		{"member with unknown role", liveRoom, domain.MemberAdded{AccountID: "dave", Role: "owner", AddedBy: "alice"}, domain.ErrInvalidEvent},
		{"non-member removed", liveRoom, domain.MemberRemoved{AccountID: "eve", RemovedBy: "alice"}, domain.ErrInvalidEvent},
		{"missing field", liveRoom, domain.MemberRemoved{AccountID: "bob"}, domain.ErrInvalidEvent},
		{"account event", liveRoom, domain.AccountRenamed{Name: "x"}, domain.ErrUnknownEvent},
		{"foreign event type", liveRoom, foreignEvent{}, domain.ErrUnknownEvent},
		{"pointer event", noRoom, &domain.RoomCreated{Name: "general", CreatedBy: "alice"}, domain.ErrUnknownEvent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.room(t)
			before := snapshotOf(t, r)
			if err := r.Apply(tc.event); !errors.Is(err, tc.want) {
				t.Errorf("Apply = %v, want %v", err, tc.want)
			}
			unchanged(t, before, r)
		})
	}
}

func TestRoomApplyAllStopsAtFirstError(t *testing.T) {
	t.Parallel()
	r := liveRoom(t)
	err := r.ApplyAll([]domain.Event{
		domain.RoomRenamed{Name: "first", RenamedBy: "alice"},
		domain.MemberRemoved{AccountID: "eve", RemovedBy: "alice"},
		domain.RoomRenamed{Name: "never", RenamedBy: "alice"},
	})
	if !errors.Is(err, domain.ErrInvalidEvent) {
		t.Fatalf("ApplyAll = %v, want ErrInvalidEvent", err)
	}
	if r.Name() != "first" || r.Version() != int64(len(liveEvents())+1) {
		t.Errorf("after ApplyAll: name %q, version %d", r.Name(), r.Version())
	}
}

// foreignEvent is an event of some other domain.
type foreignEvent struct{}

func (foreignEvent) EventType() string { return "InvoicePaid" }
func (foreignEvent) EventVersion() int { return 1 }
