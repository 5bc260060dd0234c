package adapters

import (
	"github.com/oklog/ulid/v2"

	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// ULIDs makes room, message, event and command ids from ULIDs: unique, and sortable by creation time.
type ULIDs struct{}

var _ app.IDs = ULIDs{}

// NewRoomID returns "room-" and a new ULID.
func (ULIDs) NewRoomID() domain.RoomID { return domain.RoomID("room-" + ulid.Make().String()) }

// NewMessageID returns "msg-" and a new ULID.
func (ULIDs) NewMessageID() domain.MessageID { return domain.MessageID("msg-" + ulid.Make().String()) }

// NewID returns a bare new ULID, for event and command ids.
func NewID() string { return ulid.Make().String() }
