package domain_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// Message ids of the fixture room.
const (
	msgBob     domain.MessageID = "msg-bob"
	msgCarol   domain.MessageID = "msg-carol"
	msgDeleted domain.MessageID = "msg-deleted"
	msgNew     domain.MessageID = "msg-new"
	msgUnknown domain.MessageID = "msg-unknown"
)

// fixtureMessages are the fixture room's messages as the writer keeps them beside the room.
var fixtureMessages = map[domain.MessageID]domain.Message{
	msgBob:     {ID: msgBob, Room: "room-1", Author: "bob"},
	msgCarol:   {ID: msgCarol, Room: "room-1", Author: "carol"},
	msgDeleted: {ID: msgDeleted, Room: "room-1", Author: "bob", Deleted: true},
}

// msgElsewhere is a message bob posted in another room.
var msgElsewhere = domain.Message{ID: "msg-elsewhere", Room: "room-2", Author: "bob"}

// msg returns the fixture message id as the writer hands it to a command: known, or with only its id.
func msg(id domain.MessageID) domain.Message {
	if m, ok := fixtureMessages[id]; ok {
		return m
	}
	return domain.Message{ID: id}
}

// liveEvents builds the fixture room: alice is its only admin; bob and carol are members; bob posted msgBob and
// msgDeleted (then deleted it), carol posted msgCarol; eve is no member.
func liveEvents() []domain.Event {
	return []domain.Event{
		domain.RoomCreated{Name: "general", CreatedBy: "alice"},
		domain.MemberAdded{AccountID: "bob", Role: domain.RoleMember, AddedBy: "alice"},
		domain.MemberAdded{AccountID: "carol", Role: domain.RoleMember, AddedBy: "alice"},
		domain.MessagePosted{MessageID: msgBob, AuthorID: "bob", Text: "hello"},
		domain.MessagePosted{MessageID: msgCarol, AuthorID: "carol", Text: "hi"},
		domain.MessagePosted{MessageID: msgDeleted, AuthorID: "bob", Text: "oops"},
		domain.MessageDeleted{MessageID: msgDeleted, DeletedBy: "bob"},
	}
}

// foldRoom returns a room with id "room-1" that applied events, failing the test on any error.
func foldRoom(tb testing.TB, events ...domain.Event) *domain.Room {
	tb.Helper()
	r := domain.NewRoom("room-1")
	if err := r.ApplyAll(events); err != nil {
		tb.Fatalf("fold room: %v", err)
	}
	return r
}

// liveRoom returns the fixture room.
func liveRoom(tb testing.TB) *domain.Room {
	tb.Helper()
	return foldRoom(tb, liveEvents()...)
}

// twoAdminRoom returns the fixture room where dave is a second admin.
func twoAdminRoom(tb testing.TB) *domain.Room {
	tb.Helper()
	return foldRoom(tb, append(liveEvents(), domain.MemberAdded{AccountID: "dave", Role: domain.RoleAdmin, AddedBy: "alice"})...)
}

// deletedRoom returns the fixture room after alice deleted it.
func deletedRoom(tb testing.TB) *domain.Room {
	tb.Helper()
	return foldRoom(tb, append(liveEvents(), domain.RoomDeleted{DeletedBy: "alice"})...)
}

// registered returns account "alice" registered as Alice.
func registered(tb testing.TB) *domain.Account {
	tb.Helper()
	a := domain.NewAccount("alice")
	if err := a.Apply(domain.AccountRegistered{Name: "Alice"}); err != nil {
		tb.Fatalf("register: %v", err)
	}
	return a
}

// snapshotOf returns the aggregate's snapshot, failing the test on error.
func snapshotOf(tb testing.TB, agg interface{ MarshalSnapshot() ([]byte, error) }) []byte {
	tb.Helper()
	b, err := agg.MarshalSnapshot()
	if err != nil {
		tb.Fatalf("snapshot: %v", err)
	}
	return b
}

// checkDecision checks a command's result: the events when want is nil, else an error that is want and, for
// validation failures, names field.
func checkDecision(tb testing.TB, got []domain.Event, err error, wantEvents []domain.Event, want error, field string) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("error %v, want events %v", err, wantEvents)
		}
		if !reflect.DeepEqual(got, wantEvents) {
			tb.Fatalf("events %#v, want %#v", got, wantEvents)
		}
		return
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error %v, want %v", err, want)
	}
	if got != nil {
		tb.Errorf("events %v returned with error %v", got, err)
	}
	var ve *domain.ValidationError
	isValidation := errors.As(err, &ve)
	if isValidation != (want == domain.ErrInvalid) {
		tb.Fatalf("error %v: is *ValidationError = %t, want %t", err, isValidation, want == domain.ErrInvalid)
	}
	if isValidation && ve.Field != field {
		tb.Errorf("validation field %q, want %q", ve.Field, field)
	}
}

// unchanged fails the test when the aggregate's state differs from the snapshot before.
func unchanged(tb testing.TB, before []byte, agg interface{ MarshalSnapshot() ([]byte, error) }) {
	tb.Helper()
	if after := snapshotOf(tb, agg); !bytes.Equal(before, after) {
		tb.Errorf("state changed:\nbefore %s\nafter  %s", before, after)
	}
}
