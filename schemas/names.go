package schemas

// Aggregate types, the envelope's aggregate_type and the middle of the Kafka topic name.
const (
	// AggregateTypeAccount is the aggregate type of account events.
	AggregateTypeAccount = "account"
	// AggregateTypeRoom is the aggregate type of room events.
	AggregateTypeRoom = "room"
)

// Event types, the envelope's type.
const (
	// TypeAccountRegistered names the event of an account's registration.
	TypeAccountRegistered = "AccountRegistered"
	// TypeAccountRenamed names the event of an account's new display name.
	TypeAccountRenamed = "AccountRenamed"
	// TypeRoomCreated names the event of a room's creation.
	TypeRoomCreated = "RoomCreated"
	// TypeRoomRenamed names the event of a room's new name.
	TypeRoomRenamed = "RoomRenamed"
	// TypeMemberAdded names the event of an account joining a room.
	TypeMemberAdded = "MemberAdded"
	// TypeMemberRemoved names the event of an account leaving a room.
	TypeMemberRemoved = "MemberRemoved"
	// TypeMessagePosted names the event of a new message.
	TypeMessagePosted = "MessagePosted"
	// TypeMessageEdited names the event of a message's new text.
	TypeMessageEdited = "MessageEdited"
	// TypeMessageDeleted names the event of a message's deletion.
	TypeMessageDeleted = "MessageDeleted"
	// TypeRoomDeleted names the event of a room's deletion.
	TypeRoomDeleted = "RoomDeleted"
)

// Role is a member's role in a room, as carried by MemberAdded v2.
type Role string

// The roles the MemberAdded v2 schema allows.
const (
	// RoleMember may read and post.
	RoleMember Role = "member"
	// RoleAdmin may also rename the room, add and remove members, delete any message and delete the room.
	RoleAdmin Role = "admin"
)
