package domain

// Event is a fact the domain decided. Its JSON encoding (encoding/json) is the payload of the published schema
// named by EventType at version EventVersion.
type Event interface {
	// EventType returns the event's name, e.g. "MessagePosted".
	EventType() string
	// EventVersion returns the schema version of the event's payload, 1 or more.
	EventVersion() int
}

// Event type names, as in the envelope's "type" field.
const (
	// TypeAccountRegistered names the AccountRegistered event.
	TypeAccountRegistered = "AccountRegistered"
	// TypeAccountRenamed names the AccountRenamed event.
	TypeAccountRenamed = "AccountRenamed"
	// TypeRoomCreated names the RoomCreated event.
	TypeRoomCreated = "RoomCreated"
	// TypeRoomRenamed names the RoomRenamed event.
	TypeRoomRenamed = "RoomRenamed"
	// TypeMemberAdded names the MemberAdded event.
	TypeMemberAdded = "MemberAdded"
	// TypeMemberRemoved names the MemberRemoved event.
	TypeMemberRemoved = "MemberRemoved"
	// TypeMessagePosted names the MessagePosted event.
	TypeMessagePosted = "MessagePosted"
	// TypeMessageEdited names the MessageEdited event.
	TypeMessageEdited = "MessageEdited"
	// TypeMessageDeleted names the MessageDeleted event.
	TypeMessageDeleted = "MessageDeleted"
	// TypeRoomDeleted names the RoomDeleted event.
	TypeRoomDeleted = "RoomDeleted"
)

// AccountRegistered records that an account was registered under Name.
type AccountRegistered struct {
	Name string `json:"name"`
}

// AccountRenamed records that an account took the name Name.
type AccountRenamed struct {
	Name string `json:"name"`
}

// RoomCreated records that a room was created; its creator became its first admin member.
type RoomCreated struct {
	Name      string    `json:"name"`
	CreatedBy AccountID `json:"created_by"`
}

// RoomRenamed records that an admin renamed the room.
type RoomRenamed struct {
	Name      string    `json:"name"`
	RenamedBy AccountID `json:"renamed_by"`
}

// MemberAdded records that an admin added an account to the room with a role (schema version 2).
type MemberAdded struct {
	AccountID AccountID `json:"account_id"`
	Role      Role      `json:"role"`
	AddedBy   AccountID `json:"added_by"`
}

// MemberRemoved records that an admin removed an account from the room.
type MemberRemoved struct {
	AccountID AccountID `json:"account_id"`
	RemovedBy AccountID `json:"removed_by"`
}

// MessagePosted records that a member posted a message.
type MessagePosted struct {
	MessageID MessageID `json:"message_id"`
	AuthorID  AccountID `json:"author_id"`
	Text      string    `json:"text"`
}

// MessageEdited records that a message's author replaced its text.
type MessageEdited struct {
	MessageID MessageID `json:"message_id"`
	Text      string    `json:"text"`
	EditedBy  AccountID `json:"edited_by"`
}

// MessageDeleted records that a message's author or an admin deleted it.
type MessageDeleted struct {
	MessageID MessageID `json:"message_id"`
	DeletedBy AccountID `json:"deleted_by"`
}

// RoomDeleted records that an admin deleted the room; it takes no command afterwards.
type RoomDeleted struct {
	DeletedBy AccountID `json:"deleted_by"`
}

// EventType returns TypeAccountRegistered.
func (AccountRegistered) EventType() string { return TypeAccountRegistered }

// EventType returns TypeAccountRenamed.
func (AccountRenamed) EventType() string { return TypeAccountRenamed }

// EventType returns TypeRoomCreated.
func (RoomCreated) EventType() string { return TypeRoomCreated }

// EventType returns TypeRoomRenamed.
func (RoomRenamed) EventType() string { return TypeRoomRenamed }

// EventType returns TypeMemberAdded.
func (MemberAdded) EventType() string { return TypeMemberAdded }

// EventType returns TypeMemberRemoved.
func (MemberRemoved) EventType() string { return TypeMemberRemoved }

// EventType returns TypeMessagePosted.
func (MessagePosted) EventType() string { return TypeMessagePosted }

// EventType returns TypeMessageEdited.
func (MessageEdited) EventType() string { return TypeMessageEdited }

// EventType returns TypeMessageDeleted.
func (MessageDeleted) EventType() string { return TypeMessageDeleted }

// EventType returns TypeRoomDeleted.
func (RoomDeleted) EventType() string { return TypeRoomDeleted }

// EventVersion returns 1.
func (AccountRegistered) EventVersion() int { return 1 }

// EventVersion returns 1.
func (AccountRenamed) EventVersion() int { return 1 }

// EventVersion returns 1.
func (RoomCreated) EventVersion() int { return 1 }

// EventVersion returns 1.
func (RoomRenamed) EventVersion() int { return 1 }

// EventVersion returns 2: version 1 had no role.
func (MemberAdded) EventVersion() int { return 2 }

// EventVersion returns 1.
func (MemberRemoved) EventVersion() int { return 1 }

// EventVersion returns 1.
func (MessagePosted) EventVersion() int { return 1 }

// EventVersion returns 1.
func (MessageEdited) EventVersion() int { return 1 }

// EventVersion returns 1.
func (MessageDeleted) EventVersion() int { return 1 }

// EventVersion returns 1.
func (RoomDeleted) EventVersion() int { return 1 }
