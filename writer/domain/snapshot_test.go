package domain_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// busyRoomEvents returns a room history of n events past the fixture: members come and go, messages are
// posted, edited and deleted.
func busyRoomEvents(n int) []domain.Event {
	events := liveEvents()
	for i := 0; len(events) < n; i++ {
		acc := domain.AccountID(fmt.Sprintf("user-%d", i))
		msg := domain.MessageID(fmt.Sprintf("msg-%d", i))
		events = append(events,
			domain.MemberAdded{AccountID: acc, Role: domain.RoleMember, AddedBy: "alice"},
			domain.MessagePosted{MessageID: msg, AuthorID: acc, Text: "text " + string(msg)},
			domain.MessageEdited{MessageID: msg, Text: "edited", EditedBy: acc},
		)
		if i%2 == 0 {
			events = append(events, domain.MessageDeleted{MessageID: msg, DeletedBy: "alice"},
				domain.MemberRemoved{AccountID: acc, RemovedBy: "alice"})
		}
	}
	return events[:n]
}

func TestRoomSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 7, 50} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			r := foldRoom(t, busyRoomEvents(n)...)
			restored, err := domain.UnmarshalRoomSnapshot(snapshotOf(t, r))
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if !reflect.DeepEqual(restored, r) {
				t.Fatalf("restored %+v, want %+v", restored, r)
			}
			if restored.Version() != int64(n) {
				t.Errorf("restored version %d, want %d", restored.Version(), n)
			}
			if n == 0 {
				return
			}
			// Both go on the same way: the restored room decides and folds like the original.
			more := []domain.Event{
				domain.MemberAdded{AccountID: "zoe", Role: domain.RoleAdmin, AddedBy: "alice"},
				domain.RoomRenamed{Name: "renamed", RenamedBy: "zoe"},
				domain.RoomDeleted{DeletedBy: "zoe"},
			}
			for _, agg := range []*domain.Room{r, restored} {
				if err := agg.ApplyAll(more); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(restored, r) {
				t.Errorf("after more events, restored %+v differs from %+v", restored, r)
			}
		})
	}
}

func TestRoomSnapshotKeepsNoTexts(t *testing.T) {
	t.Parallel()
	r := foldRoom(t, domain.RoomCreated{Name: "general", CreatedBy: "alice"},
		domain.MessagePosted{MessageID: msgNew, AuthorID: "alice", Text: "a secret text"})
	if snap := string(snapshotOf(t, r)); strings.Contains(snap, "secret") || strings.Contains(snap, string(msgNew)) ||
		!strings.Contains(snap, `"format":2`) {
		t.Errorf("snapshot %s keeps a message or lacks its format", snap)
	}
}

// TestLegacyRoomSnapshot checks that a snapshot of format 1, which held every message's author, still restores
// the room (its messages ignored), so rooms snapshotted before format 2 do not replay from their first event.
func TestLegacyRoomSnapshot(t *testing.T) {
	t.Parallel()
	legacy := `{"format":1,"version":3,"id":"room-1","created":true,"name":"general","members":{"alice":"admin"},` +
		`"messages":{"msg-a":{"author":"alice"},"msg-b":{"author":"alice","deleted":true}}}`
	r, err := domain.UnmarshalRoomSnapshot([]byte(legacy))
	if err != nil {
		t.Fatalf("restore legacy snapshot: %v", err)
	}
	want := foldRoom(t, domain.RoomCreated{Name: "general", CreatedBy: "alice"},
		domain.MessagePosted{MessageID: "msg-a", AuthorID: "alice", Text: "a"},
		domain.MessagePosted{MessageID: "msg-b", AuthorID: "alice", Text: "b"})
	if !reflect.DeepEqual(r, want) {
		t.Errorf("restored %+v, want %+v", r, want)
	}
}

func TestAccountSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	for _, a := range []*domain.Account{{}, domain.NewAccount("bob"), registered(t)} {
		restored, err := domain.UnmarshalAccountSnapshot(snapshotOf(t, a))
		if err != nil {
			t.Fatalf("restore %+v: %v", a, err)
		}
		if !reflect.DeepEqual(restored, a) {
			t.Errorf("restored %+v, want %+v", restored, a)
		}
	}
	a := registered(t)
	restored, err := domain.UnmarshalAccountSnapshot(snapshotOf(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.Apply(domain.AccountRenamed{Name: "Al"}); err != nil || restored.Version() != 2 || restored.Name() != "Al" {
		t.Errorf("restored account goes on: %v, version %d, name %q", err, restored.Version(), restored.Name())
	}
}

func TestBadSnapshots(t *testing.T) {
	t.Parallel()
	rooms := []string{
		``,
		`null`,
		`[]`,
		`{"format":3,"version":1,"created":true,"name":"x","members":{"a":"admin"}}`,
		`{"version":1,"created":true,"name":"x"}`,
		`{"format":1,"version":1,"created":true,"name":"x","extra":1}`,
		`{"format":1,"version":1,"created":true,"name":"x"} {}`,
		`{"format":1,"version":-1,"created":false}`,
		`{"format":1,"version":3,"created":false}`,
		`{"format":1,"version":0,"created":true,"name":"x"}`,
		`{"format":1,"version":0,"created":false,"members":{"a":"admin"}}`,
		`{"format":1,"version":2,"created":true}`,
		`{"format":1,"version":2,"created":true,"name":"x","members":{"a":"owner"}}`,
		`{"format":1,"version":2,"created":true,"name":"x","members":{"":"admin"}}`,
		`{"format":2,"version":2,"created":true,"name":"x","messages":{"m":{"author":"a"}}}`,
	}
	for _, data := range rooms {
		if r, err := domain.UnmarshalRoomSnapshot([]byte(data)); !errors.Is(err, domain.ErrInvalidSnapshot) || r != nil {
			t.Errorf("UnmarshalRoomSnapshot(%s) = %v, %v; want ErrInvalidSnapshot", data, r, err)
		}
	}
	accounts := []string{
		`{"format":1,"version":1,"registered":true}`,
		`{"format":1,"version":0,"registered":true,"name":"x"}`,
		`{"format":1,"version":2,"registered":false}`,
		`{"format":0,"version":1,"registered":true,"name":"x"}`,
		`{"format":1,"version":1,"registered":true,"name":"x","room":"y"}`,
	}
	for _, data := range accounts {
		if a, err := domain.UnmarshalAccountSnapshot([]byte(data)); !errors.Is(err, domain.ErrInvalidSnapshot) || a != nil {
			t.Errorf("UnmarshalAccountSnapshot(%s) = %v, %v; want ErrInvalidSnapshot", data, a, err)
		}
	}
}
