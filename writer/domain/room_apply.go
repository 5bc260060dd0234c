package domain

import "fmt"

// Apply folds one event into the room and advances its version by one. It returns an error wrapping
// ErrUnknownEvent for an event that is not a room's, or ErrInvalidEvent for one that lacks a field or does not
// fit the state (anything before RoomCreated or after RoomDeleted, a second RoomCreated, adding a member twice,
// removing a non-member, reusing a message id, editing or deleting an unknown or deleted message); the room is
// then unchanged. It does not re-check the command rules: events are facts.
func (r *Room) Apply(ev Event) error {
	if err := r.apply(ev); err != nil {
		return fmt.Errorf("room %s at version %d: apply %T: %w", r.id, r.version, ev, err)
	}
	r.version++
	return nil
}

// ApplyAll applies events in order and stops at the first error, which it returns; the events before it stay
// applied.
func (r *Room) ApplyAll(events []Event) error {
	for _, ev := range events {
		if err := r.Apply(ev); err != nil {
			return err
		}
	}
	return nil
}

// apply checks that ev fits before it changes anything.
func (r *Room) apply(ev Event) error {
	if agg, ok := AggregateTypeOf(ev.EventType()); !ok || agg != AggregateTypeRoom {
		return ErrUnknownEvent
	}
	if err := checkEvent(ev); err != nil {
		return err
	}
	if created, ok := ev.(RoomCreated); ok {
		if r.created {
			return fmt.Errorf("%w: the room exists already", ErrInvalidEvent)
		}
		r.created, r.name = true, created.Name
		r.members = map[AccountID]Role{created.CreatedBy: RoleAdmin}
		r.messages = map[MessageID]message{}
		return nil
	}
	switch {
	case !r.created:
		return fmt.Errorf("%w: the room has not been created", ErrInvalidEvent)
	case r.deleted:
		return fmt.Errorf("%w: the room has been deleted", ErrInvalidEvent)
	}
	switch e := ev.(type) {
	case RoomRenamed:
		r.name = e.Name
	case MemberAdded:
		if _, ok := r.members[e.AccountID]; ok {
			return fmt.Errorf("%w: %s is a member already", ErrInvalidEvent, e.AccountID)
		}
		r.members[e.AccountID] = e.Role
	case MemberRemoved:
		if _, ok := r.members[e.AccountID]; !ok {
			return fmt.Errorf("%w: %s is not a member", ErrInvalidEvent, e.AccountID)
		}
		delete(r.members, e.AccountID)
	case MessagePosted:
		if _, ok := r.messages[e.MessageID]; ok {
			return fmt.Errorf("%w: message %s exists already", ErrInvalidEvent, e.MessageID)
		}
		r.messages[e.MessageID] = message{author: e.AuthorID}
	case MessageEdited:
		if m, ok := r.messages[e.MessageID]; !ok || m.deleted {
			return fmt.Errorf("%w: message %s is unknown or deleted", ErrInvalidEvent, e.MessageID)
		}
	case MessageDeleted:
		m, ok := r.messages[e.MessageID]
		if !ok || m.deleted {
			return fmt.Errorf("%w: message %s is unknown or deleted", ErrInvalidEvent, e.MessageID)
		}
		m.deleted = true
		r.messages[e.MessageID] = m
	case RoomDeleted:
		r.deleted = true
	default:
		// Unreachable: checkEvent accepts only the value types above.
		return ErrUnknownEvent
	}
	return nil
}
