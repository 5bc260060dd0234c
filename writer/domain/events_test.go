package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// TestPayloadsMatchTheSchema pins every event's JSON payload to the field names of schemas/README.md.
func TestPayloadsMatchTheSchema(t *testing.T) {
	t.Parallel()
	cases := []struct {
		event   domain.Event
		version int
		want    string
	}{
		{domain.AccountRegistered{Name: "Alice"}, 1, `{"name":"Alice"}`},
		{domain.AccountRenamed{Name: "Al"}, 1, `{"name":"Al"}`},
		{domain.RoomCreated{Name: "general", CreatedBy: "alice"}, 1, `{"name":"general","created_by":"alice"}`},
		{domain.RoomRenamed{Name: "random", RenamedBy: "alice"}, 1, `{"name":"random","renamed_by":"alice"}`},
		{domain.MemberAdded{AccountID: "bob", Role: domain.RoleAdmin, AddedBy: "alice"}, 2,
			`{"account_id":"bob","role":"admin","added_by":"alice"}`},
		{domain.MemberRemoved{AccountID: "bob", RemovedBy: "alice"}, 1, `{"account_id":"bob","removed_by":"alice"}`},
		{domain.MessagePosted{MessageID: "msg-1", AuthorID: "bob", Text: "hi\n"}, 1,
			`{"message_id":"msg-1","author_id":"bob","text":"hi\n"}`},
		{domain.MessageEdited{MessageID: "msg-1", Text: "yo", EditedBy: "bob"}, 1,
			`{"message_id":"msg-1","text":"yo","edited_by":"bob"}`},
		{domain.MessageDeleted{MessageID: "msg-1", DeletedBy: "alice"}, 1, `{"message_id":"msg-1","deleted_by":"alice"}`},
		{domain.RoomDeleted{DeletedBy: "alice"}, 1, `{"deleted_by":"alice"}`},
	}
	var covered []string
	for _, tc := range cases {
		got, err := json.Marshal(tc.event)
		if err != nil {
			t.Fatalf("marshal %T: %v", tc.event, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s payload %s, want %s", tc.event.EventType(), got, tc.want)
		}
		if tc.event.EventVersion() != tc.version {
			t.Errorf("%s version %d, want %d", tc.event.EventType(), tc.event.EventVersion(), tc.version)
		}
		covered = append(covered, tc.event.EventType())
	}
	if !slices.Equal(covered, domain.EventTypes()) {
		t.Errorf("cases cover %v, EventTypes is %v", covered, domain.EventTypes())
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	types := domain.EventTypes()
	samples := domain.SampleEvents()
	if len(types) != 10 || len(samples) != len(types) {
		t.Fatalf("%d types and %d samples, want 10 of each", len(types), len(samples))
	}
	for i, ev := range samples {
		if ev.EventType() != types[i] {
			t.Errorf("sample %d is %s, want %s", i, ev.EventType(), types[i])
		}
		agg, ok := domain.AggregateTypeOf(ev.EventType())
		wantAgg := domain.AggregateTypeRoom
		if i < 2 {
			wantAgg = domain.AggregateTypeAccount
		}
		if !ok || agg != wantAgg {
			t.Errorf("AggregateTypeOf(%s) = %q, %t; want %q", ev.EventType(), agg, ok, wantAgg)
		}
	}
	if _, ok := domain.AggregateTypeOf("RoomArchived"); ok {
		t.Error("AggregateTypeOf knows RoomArchived")
	}
	types[0] = "changed"
	if domain.EventTypes()[0] != domain.TypeAccountRegistered {
		t.Error("EventTypes returned the package's own slice")
	}
}

func TestDecodeEventRoundTrip(t *testing.T) {
	t.Parallel()
	for _, ev := range domain.SampleEvents() {
		payload, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("marshal %s: %v", ev.EventType(), err)
		}
		got, err := domain.DecodeEvent(ev.EventType(), json.RawMessage(payload))
		if err != nil {
			t.Errorf("decode %s: %v", ev.EventType(), err)
			continue
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("decode %s = %#v, want %#v", ev.EventType(), got, ev)
		}
	}
}

func TestDecodeEventErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, eventType, payload string
		want                     error
	}{
		{"unknown type", "RoomArchived", `{"archived_by":"alice"}`, domain.ErrUnknownEvent},
		{"empty type", "", `{}`, domain.ErrUnknownEvent},
		{"malformed JSON", domain.TypeRoomCreated, `{"name":`, domain.ErrInvalidEvent},
		{"not an object", domain.TypeRoomCreated, `["general"]`, domain.ErrInvalidEvent},
		{"wrong field type", domain.TypeMessagePosted, `{"message_id":1,"author_id":"bob","text":"hi"}`, domain.ErrInvalidEvent},
		{"trailing data", domain.TypeRoomDeleted, `{"deleted_by":"alice"} {}`, domain.ErrInvalidEvent},
		{"null", domain.TypeRoomDeleted, `null`, domain.ErrInvalidEvent},
		{"empty payload", domain.TypeRoomDeleted, ``, domain.ErrInvalidEvent},
		{"missing field", domain.TypeRoomCreated, `{"name":"general"}`, domain.ErrInvalidEvent},
		{"empty field", domain.TypeMessageEdited, `{"message_id":"m","text":"","edited_by":"bob"}`, domain.ErrInvalidEvent},
		{"MemberAdded v1 not upcast", domain.TypeMemberAdded, `{"account_id":"bob","added_by":"alice"}`, domain.ErrInvalidEvent},
		{"unknown role", domain.TypeMemberAdded, `{"account_id":"bob","role":"owner","added_by":"alice"}`, domain.ErrInvalidEvent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := domain.DecodeEvent(tc.eventType, []byte(tc.payload))
			if !errors.Is(err, tc.want) || ev != nil {
				t.Errorf("DecodeEvent = %v, %v; want nil and %v", ev, err, tc.want)
			}
			if errors.Is(err, domain.ErrInvalid) {
				t.Errorf("decode error %v passes for invalid command input", err)
			}
		})
	}
}
