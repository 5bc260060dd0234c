package schemas

import "errors"

// The sentinels below classify every failure of Validate, ValidateJSON, Upcast and Decode, so a consumer can
// decide with errors.Is: all three mean the event will never be readable by this code, so a projector parks it
// on its dead-letter topic instead of retrying.
var (
	// ErrUnknownType reports an event type that this catalogue does not know.
	ErrUnknownType = errors.New("unknown event type")
	// ErrUnknownVersion reports a version of a known type that is above the current one, below 1, or has no
	// upcasting path to the current one.
	ErrUnknownVersion = errors.New("unknown event version")
	// ErrInvalid reports an envelope or payload that breaks its schema; the wrapping error says where and why.
	ErrInvalid = errors.New("invalid event")
)
