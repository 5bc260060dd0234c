package adapters

import (
	"context"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// The attributes of a message's entity: the room it was posted in, "true" once it is deleted, and its author for
// the messages of journals from before ids carried their seq (written by BackfillMessages).
const (
	attrMessageRoom    = "room"
	attrMessageAuthor  = "author"
	attrMessageDeleted = "deleted"
)

// messageEntities returns the entity writes of a room's new events: a MessageDeleted marks its message deleted,
// in the events' transaction, so the mark never disagrees with the journal. A MessagePosted writes nothing: its
// message's id carries the seq of the event, which says who posted it (see MessagesEventstoreReader), so a post
// costs the append alone.
func messageEntities(room string, events []domain.Event) []eventstore.EntityWrite {
	var out []eventstore.EntityWrite
	for _, ev := range events {
		if e, ok := ev.(domain.MessageDeleted); ok {
			out = append(out, eventstore.EntityWrite{Key: string(e.MessageID), Set: map[string]string{
				attrMessageRoom: room, attrMessageDeleted: "true",
			}})
		}
	}
	return out
}

// MessagesEventstoreReader finds a room's messages in the event store: who posted a message, from the journal
// item its id points at (its MessagePosted event, see ULIDs.NewMessageID), and whether it is deleted, from its
// entity. Both reads are strongly consistent.
type MessagesEventstoreReader struct {
	Store eventstore.Store
}

var _ app.Messages = MessagesEventstoreReader{}

// Message implements app.Messages; it returns app.ErrUnavailable (wrapped) when the store is down. A message
// whose id carries no seq, or a seq whose event is not its MessagePosted in room, is known only by a backfilled
// entity (journals from before ids carried their seq), else not found.
func (m MessagesEventstoreReader) Message(ctx context.Context, room domain.RoomID, id domain.MessageID) (domain.Message, bool, error) {
	msg, found := domain.Message{ID: id}, false
	if seq, ok := MessageSeq(id); ok {
		rec, err := m.Store.Event(ctx, string(room), seq)
		if err != nil {
			return msg, false, storeError("read the post of message "+string(id), err)
		}
		if rec != nil && rec.Type == domain.TypeMessagePosted {
			ev, err := decodeRecord(*rec)
			if err != nil {
				return msg, false, err
			}
			if posted, ok := ev.(domain.MessagePosted); ok && posted.MessageID == id {
				msg.Room, msg.Author, found = room, posted.AuthorID, true
			}
		}
	}
	attrs, err := m.Store.Entity(ctx, string(id))
	if err != nil {
		return msg, false, storeError("read message "+string(id), err)
	}
	if attrs == nil {
		return msg, found, nil
	}
	if !found && attrs[attrMessageAuthor] != "" {
		msg.Room, msg.Author, found = domain.RoomID(attrs[attrMessageRoom]), domain.AccountID(attrs[attrMessageAuthor]), true
	}
	msg.Deleted = attrs[attrMessageDeleted] == "true"
	return msg, found, nil
}
