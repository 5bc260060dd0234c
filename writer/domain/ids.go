package domain

// AccountID identifies an account: the JWT subject of its owner.
type AccountID string

// RoomID identifies a room: "room-" followed by a ULID chosen by the writer.
type RoomID string

// MessageID identifies a message within its room: "msg-" followed by a ULID chosen by the writer.
type MessageID string

// Aggregate type names, as written in the journal and used for the Kafka topics.
const (
	// AggregateTypeRoom is the aggregate type of rooms.
	AggregateTypeRoom = "room"
	// AggregateTypeAccount is the aggregate type of accounts.
	AggregateTypeAccount = "account"
)

// Role is what a member may do in a room.
type Role string

// The roles a member can have.
const (
	// RoleMember may post, edit and delete their own messages.
	RoleMember Role = "member"
	// RoleAdmin may also rename the room, add and remove members, delete any message and delete the room.
	RoleAdmin Role = "admin"
)

// ParseRole returns the role named s ("member" or "admin"); any other value is a *ValidationError on field
// "role" that wraps ErrInvalid.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.valid() {
		return "", &ValidationError{Field: "role", Reason: "must be member or admin"}
	}
	return r, nil
}

func (r Role) valid() bool { return r == RoleMember || r == RoleAdmin }
