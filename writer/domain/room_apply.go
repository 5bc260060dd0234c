package domain

import "fmt"

// Apply folds one event into the room and advances its version by one. It returns an error wrapping
// ErrUnknownEvent for an event that is not a room's, or ErrInvalidEvent for one that lacks a field or does not
// fit the state (anything before RoomCreated or after RoomDeleted, a second RoomCreated, adding a member twice,
// removing a non-member); the room is then unchanged. It does not re-check the command rules: events are facts.
// Message events only advance the version: the room keeps nothing per message (see Message).
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
	case MessagePosted, MessageEdited, MessageDeleted:
	case RoomDeleted:
		r.deleted = true
	default:
		// Unreachable: checkEvent accepts only the value types above.
		return ErrUnknownEvent
	}
	return nil
}
