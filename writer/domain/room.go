package domain

import (
	"cmp"
	"fmt"
	"slices"
)

// Room is the room aggregate: its name and its members with their roles. It keeps nothing per message, so its
// state, its snapshots and the cost of a command do not grow with the messages ever posted: the commands on
// one message are handed that message's Message. The zero value is a room that does not exist; NewRoom gives it
// its id. Commands only decide: they return events and never change the room, which changes only through
// Apply. A Room is not safe for concurrent use.
type Room struct {
	id      RoomID
	name    string
	created bool
	deleted bool
	members map[AccountID]Role
	version int64
}

// Member is one member of a room and its role.
type Member struct {
	AccountID AccountID
	Role      Role
}

// NewRoom returns a room that does not exist yet and knows its id, which its events do not carry.
func NewRoom(id RoomID) *Room { return &Room{id: id} }

// ID returns the room's id: the one given to NewRoom or kept in its snapshot, or "" when unknown.
func (r *Room) ID() RoomID { return r.id }

// Name returns the room's current name, or "" when it does not exist.
func (r *Room) Name() string { return r.name }

// Exists reports whether the room has been created; it stays true after the room is deleted.
func (r *Room) Exists() bool { return r.created }

// Deleted reports whether the room has been deleted.
func (r *Room) Deleted() bool { return r.deleted }

// Version returns the seq of the last event applied to the room, 0 before the first.
func (r *Room) Version() int64 { return r.version }

// Member returns account's role in the room, and false when it is not a member.
func (r *Room) Member(account AccountID) (Role, bool) {
	role, ok := r.members[account]
	return role, ok
}

// MemberCount returns the number of the room's members.
func (r *Room) MemberCount() int { return len(r.members) }

// Members returns the room's members sorted by account id, in a new slice.
func (r *Room) Members() []Member {
	out := make([]Member, 0, len(r.members))
	for id, role := range r.members {
		out = append(out, Member{AccountID: id, Role: role})
	}
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.AccountID, b.AccountID) })
	return out
}

// Create decides to create the room as id, named name, with by as its first admin. It returns a
// *ValidationError (ErrInvalid) for an invalid name, an empty id or creator, or an id other than the room's own,
// and ErrAlreadyExists (wrapped) when the room has been created before, deleted or not.
func (r *Room) Create(id RoomID, name string, by AccountID) ([]Event, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	switch {
	case id == "":
		return nil, invalid("room_id", "must not be empty")
	case r.id != "" && id != r.id:
		return nil, invalid("room_id", "does not match the room")
	case by == "":
		return nil, invalid("account_id", "the creator must not be empty")
	case r.created:
		return nil, fmt.Errorf("create room %s: %w", id, ErrAlreadyExists)
	}
	return []Event{RoomCreated{Name: name, CreatedBy: by}}, nil
}

// Rename decides to rename the room to name on behalf of admin by. It returns a *ValidationError (ErrInvalid)
// for an invalid name, and otherwise the errors of the access rules (see access) with ErrForbidden for a
// member who is not an admin.
func (r *Room) Rename(name string, by AccountID) ([]Event, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := r.asAdmin("rename room", by); err != nil {
		return nil, err
	}
	return []Event{RoomRenamed{Name: name, RenamedBy: by}}, nil
}

// AddMember decides to add account with role on behalf of admin by. It returns a *ValidationError (ErrInvalid)
// for an empty account or an unknown role, the errors of the access rules with ErrForbidden for a member who
// is not an admin, and ErrAlreadyMember when account is a member already (all wrapped).
func (r *Room) AddMember(account AccountID, role Role, by AccountID) ([]Event, error) {
	if account == "" {
		return nil, invalid("account_id", "must not be empty")
	}
	if !role.valid() {
		return nil, invalid("role", "must be member or admin")
	}
	if err := r.asAdmin("add member", by); err != nil {
		return nil, err
	}
	if _, ok := r.members[account]; ok {
		return nil, fmt.Errorf("add member %s: %w", account, ErrAlreadyMember)
	}
	return []Event{MemberAdded{AccountID: account, Role: role, AddedBy: by}}, nil
}

// RemoveMember decides to remove account on behalf of admin by, who may be account itself. It returns a
// *ValidationError (ErrInvalid) for an empty account, the errors of the access rules with ErrForbidden for a
// member who is not an admin, ErrNotMember when account is not a member, and ErrLastAdmin when account is the
// room's only admin (all wrapped).
func (r *Room) RemoveMember(account AccountID, by AccountID) ([]Event, error) {
	if account == "" {
		return nil, invalid("account_id", "must not be empty")
	}
	if err := r.asAdmin("remove member", by); err != nil {
		return nil, err
	}
	role, ok := r.members[account]
	if !ok {
		return nil, fmt.Errorf("remove member %s: %w", account, ErrNotMember)
	}
	if role == RoleAdmin && r.admins() == 1 {
		return nil, fmt.Errorf("remove member %s: %w", account, ErrLastAdmin)
	}
	return []Event{MemberRemoved{AccountID: account, RemovedBy: by}}, nil
}

// PostMessage decides to post text as message msg on behalf of member by. It returns a *ValidationError
// (ErrInvalid) for an invalid text or an empty message id, and the errors of the access rules (wrapped). The room
// does not know its messages: msg must be new, which the writer ensures (fresh ids, and a store that refuses to
// record a message id twice).
func (r *Room) PostMessage(msg MessageID, text string, by AccountID) ([]Event, error) {
	if err := ValidateText(text); err != nil {
		return nil, err
	}
	if msg == "" {
		return nil, invalid("message_id", "must not be empty")
	}
	if _, err := r.access("post message", by); err != nil {
		return nil, err
	}
	return []Event{MessagePosted{MessageID: msg, AuthorID: by, Text: text}}, nil
}

// EditMessage decides to replace message m's text on behalf of its author by; m is the message as the writer
// keeps it, or a Message with only its ID when there is none. It returns a *ValidationError (ErrInvalid) for an
// invalid text or an empty message id, the errors of the access rules, ErrNotFound for a message that is
// unknown, deleted or of another room, and ErrForbidden when by is not its author (all wrapped).
func (r *Room) EditMessage(m Message, text string, by AccountID) ([]Event, error) {
	if err := ValidateText(text); err != nil {
		return nil, err
	}
	if m.ID == "" {
		return nil, invalid("message_id", "must not be empty")
	}
	if _, err := r.access("edit message", by); err != nil {
		return nil, err
	}
	if err := r.live("edit message", m); err != nil {
		return nil, err
	}
	if m.Author != by {
		return nil, fmt.Errorf("edit message %s: only its author may: %w", m.ID, ErrForbidden)
	}
	return []Event{MessageEdited{MessageID: m.ID, Text: text, EditedBy: by}}, nil
}

// DeleteMessage decides to delete message m on behalf of by, its author or an admin; m is as for EditMessage.
// It returns a *ValidationError (ErrInvalid) for an empty message id, the errors of the access rules, ErrNotFound
// for a message that is unknown, deleted or of another room, and ErrForbidden when by is neither its author nor
// an admin (all wrapped).
func (r *Room) DeleteMessage(m Message, by AccountID) ([]Event, error) {
	if m.ID == "" {
		return nil, invalid("message_id", "must not be empty")
	}
	role, err := r.access("delete message", by)
	if err != nil {
		return nil, err
	}
	if err := r.live("delete message", m); err != nil {
		return nil, err
	}
	if m.Author != by && role != RoleAdmin {
		return nil, fmt.Errorf("delete message %s: only its author or an admin may: %w", m.ID, ErrForbidden)
	}
	return []Event{MessageDeleted{MessageID: m.ID, DeletedBy: by}}, nil
}

// Delete decides to delete the room on behalf of admin by. It returns the errors of the access rules, and
// ErrForbidden (wrapped) for a member who is not an admin.
func (r *Room) Delete(by AccountID) ([]Event, error) {
	if err := r.asAdmin("delete room", by); err != nil {
		return nil, err
	}
	return []Event{RoomDeleted{DeletedBy: by}}, nil
}

// access applies the rules every command on an existing room shares, in this order: ErrNotFound when the room
// does not exist or by is not a member (non-members must not learn that the room exists, nor that it was
// deleted), then ErrRoomDeleted. It returns by's role.
func (r *Room) access(action string, by AccountID) (Role, error) {
	if !r.created {
		return "", fmt.Errorf("%s: room %w", action, ErrNotFound)
	}
	role, ok := r.members[by]
	if !ok {
		return "", fmt.Errorf("%s: %s is not a member: room %w", action, by, ErrNotFound)
	}
	if r.deleted {
		return "", fmt.Errorf("%s: %w", action, ErrRoomDeleted)
	}
	return role, nil
}

// asAdmin is access followed by ErrForbidden when by is not an admin.
func (r *Room) asAdmin(action string, by AccountID) error {
	role, err := r.access(action, by)
	if err != nil {
		return err
	}
	if role != RoleAdmin {
		return fmt.Errorf("%s: %s is not an admin: %w", action, by, ErrForbidden)
	}
	return nil
}

// live returns ErrNotFound (wrapped) unless m is a message of this room that was posted and not deleted.
func (r *Room) live(action string, m Message) error {
	if !m.Known() || m.Room != r.id || m.Deleted {
		return fmt.Errorf("%s %s: message %w", action, m.ID, ErrNotFound)
	}
	return nil
}

func (r *Room) admins() int {
	n := 0
	for _, role := range r.members {
		if role == RoleAdmin {
			n++
		}
	}
	return n
}
