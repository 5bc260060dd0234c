package domain

import (
	"encoding/json"
	"fmt"
)

// catalogue lists every event the domain can emit, in the order of the published schema, with the aggregate
// type it belongs to and the function that decodes its payload.
var catalogue = []struct {
	eventType     string
	aggregateType string
	decode        func([]byte) (Event, error)
}{
	{TypeAccountRegistered, AggregateTypeAccount, decodeAs[AccountRegistered]},
	{TypeAccountRenamed, AggregateTypeAccount, decodeAs[AccountRenamed]},
	{TypeRoomCreated, AggregateTypeRoom, decodeAs[RoomCreated]},
	{TypeRoomRenamed, AggregateTypeRoom, decodeAs[RoomRenamed]},
	{TypeMemberAdded, AggregateTypeRoom, decodeAs[MemberAdded]},
	{TypeMemberRemoved, AggregateTypeRoom, decodeAs[MemberRemoved]},
	{TypeMessagePosted, AggregateTypeRoom, decodeAs[MessagePosted]},
	{TypeMessageEdited, AggregateTypeRoom, decodeAs[MessageEdited]},
	{TypeMessageDeleted, AggregateTypeRoom, decodeAs[MessageDeleted]},
	{TypeRoomDeleted, AggregateTypeRoom, decodeAs[RoomDeleted]},
}

// EventTypes returns the name of every event the domain can emit, accounts' first, in a new slice.
func EventTypes() []string {
	types := make([]string, len(catalogue))
	for i, c := range catalogue {
		types[i] = c.eventType
	}
	return types
}

// AggregateTypeOf returns the aggregate type (AggregateTypeRoom or AggregateTypeAccount) that emits events of
// eventType, and false when the domain knows no such event.
func AggregateTypeOf(eventType string) (string, bool) {
	for _, c := range catalogue {
		if c.eventType == eventType {
			return c.aggregateType, true
		}
	}
	return "", false
}

// SampleEvents returns one valid example of every event the domain can emit, in the order of EventTypes, for
// tests that must cover the whole catalogue.
func SampleEvents() []Event {
	return []Event{
		AccountRegistered{Name: "Alice"},
		AccountRenamed{Name: "Alice Liddell"},
		RoomCreated{Name: "general", CreatedBy: "alice"},
		RoomRenamed{Name: "random", RenamedBy: "alice"},
		MemberAdded{AccountID: "bob", Role: RoleMember, AddedBy: "alice"},
		MemberRemoved{AccountID: "bob", RemovedBy: "alice"},
		MessagePosted{MessageID: "msg-01JD5Z7Q0000000000000000AA", AuthorID: "alice", Text: "明日の会議は10時からです"},
		MessageEdited{MessageID: "msg-01JD5Z7Q0000000000000000AA", Text: "11時に変更", EditedBy: "alice"},
		MessageDeleted{MessageID: "msg-01JD5Z7Q0000000000000000AA", DeletedBy: "alice"},
		RoomDeleted{DeletedBy: "alice"},
	}
}

// DecodeEvent decodes the payload of an event of eventType at its current version (callers upcast older
// versions first). It returns an error wrapping ErrUnknownEvent for a type the domain does not know, and one
// wrapping ErrInvalidEvent for a payload that is not a JSON object of the schema or lacks a required field.
func DecodeEvent(eventType string, payload []byte) (Event, error) {
	for _, c := range catalogue {
		if c.eventType == eventType {
			ev, err := c.decode(payload)
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", eventType, err)
			}
			return ev, nil
		}
	}
	return nil, fmt.Errorf("decode %q: %w", eventType, ErrUnknownEvent)
}

func decodeAs[E Event](payload []byte) (Event, error) {
	var ev E
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	if err := checkEvent(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// checkEvent reports an event that lacks a required field or carries an unknown role. It does not apply the
// command rules (name length and so on): events are facts, possibly decided under older rules.
func checkEvent(ev Event) error {
	var missing string
	switch e := ev.(type) {
	case AccountRegistered:
		missing = firstEmpty("name", e.Name)
	case AccountRenamed:
		missing = firstEmpty("name", e.Name)
	case RoomCreated:
		missing = firstEmpty("name", e.Name, "created_by", string(e.CreatedBy))
	case RoomRenamed:
		missing = firstEmpty("name", e.Name, "renamed_by", string(e.RenamedBy))
	case MemberAdded:
		missing = firstEmpty("account_id", string(e.AccountID), "role", string(e.Role), "added_by", string(e.AddedBy))
		if missing == "" && !e.Role.valid() {
			return fmt.Errorf("%w: %s has unknown role %q", ErrInvalidEvent, e.EventType(), e.Role)
		}
	case MemberRemoved:
		missing = firstEmpty("account_id", string(e.AccountID), "removed_by", string(e.RemovedBy))
	case MessagePosted:
		missing = firstEmpty("message_id", string(e.MessageID), "author_id", string(e.AuthorID), "text", e.Text)
	case MessageEdited:
		missing = firstEmpty("message_id", string(e.MessageID), "text", e.Text, "edited_by", string(e.EditedBy))
	case MessageDeleted:
		missing = firstEmpty("message_id", string(e.MessageID), "deleted_by", string(e.DeletedBy))
	case RoomDeleted:
		missing = firstEmpty("deleted_by", string(e.DeletedBy))
	default:
		return fmt.Errorf("event %T: %w", ev, ErrUnknownEvent)
	}
	if missing != "" {
		return fmt.Errorf("%w: %s lacks %s", ErrInvalidEvent, ev.EventType(), missing)
	}
	return nil
}

// firstEmpty takes pairs of field name and value and returns the name of the first empty value, or "".
func firstEmpty(pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return pairs[i]
		}
	}
	return ""
}
