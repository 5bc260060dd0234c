package domain

import "errors"

// Decisions of the domain. Commands return them wrapped with context; callers test them with errors.Is.
var (
	// ErrInvalid means a command's input breaks a validation rule; the error is a *ValidationError naming the
	// field.
	ErrInvalid = errors.New("invalid input")
	// ErrForbidden means the caller is a member of the room but its role does not allow the command.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound means the room, message or account does not exist, or the caller may not know it exists.
	ErrNotFound = errors.New("not found")
	// ErrNotMember means the account a command is about is not a member of the room.
	ErrNotMember = errors.New("not a member")
	// ErrAlreadyExists means the account, room or message id has been taken already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrAlreadyMember means the account to add is a member of the room already.
	ErrAlreadyMember = errors.New("already a member")
	// ErrLastAdmin means the command would leave the room without an admin.
	ErrLastAdmin = errors.New("last admin")
	// ErrRoomDeleted means the room has been deleted and takes no more commands.
	ErrRoomDeleted = errors.New("room deleted")
)

// Failures of folding and decoding: stored data that the domain cannot make sense of.
var (
	// ErrUnknownEvent means an event type the domain does not know, or one that belongs to another aggregate.
	ErrUnknownEvent = errors.New("unknown event type")
	// ErrInvalidEvent means an event whose payload is malformed or lacks a required field, or that does not fit
	// the state of the aggregate it is applied to.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrInvalidSnapshot means a snapshot that cannot be restored: malformed, of an unknown format, or
	// inconsistent.
	ErrInvalidSnapshot = errors.New("invalid snapshot")
)

// ValidationError says which input field broke which rule; it wraps ErrInvalid, so errors.Is(err, ErrInvalid)
// and errors.As(err, &ve) both work on the errors commands return.
type ValidationError struct {
	// Field is the name of the input field as the HTTP contract spells it, e.g. "name", "text", "role".
	Field string
	// Reason says why the value was refused, for the client, e.g. "must be at most 80 characters".
	Reason string
}

// Error returns "invalid <field>: <reason>".
func (e *ValidationError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

// Unwrap returns ErrInvalid, the sentinel every validation failure is.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }
