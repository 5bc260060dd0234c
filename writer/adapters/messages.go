package adapters

import (
	"context"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// The attributes of a message entity: the room it was posted in, its author, and "true" once it is deleted.
const (
	attrMessageRoom    = "room"
	attrMessageAuthor  = "author"
	attrMessageDeleted = "deleted"
)

// messageEntities returns the entity writes of a room's new events: a MessagePosted creates its message's entity
// (the append fails with eventstore.ErrEntityExists when the id is taken), a MessageDeleted marks it deleted.
// They go in the events' transaction, so an entity never disagrees with the journal.
func messageEntities(room string, events []domain.Event) []eventstore.EntityWrite {
	var out []eventstore.EntityWrite
	for _, ev := range events {
		switch e := ev.(type) {
		case domain.MessagePosted:
			out = append(out, eventstore.EntityWrite{Key: string(e.MessageID), Create: true, Set: map[string]string{
				attrMessageRoom: room, attrMessageAuthor: string(e.AuthorID),
			}})
		case domain.MessageDeleted:
			out = append(out, eventstore.EntityWrite{Key: string(e.MessageID), Set: map[string]string{attrMessageDeleted: "true"}})
		}
	}
	return out
}

// MessagesEventstoreReader reads the messages the room repository keeps as entities of the event store.
type MessagesEventstoreReader struct {
	Store eventstore.Store
}

var _ app.Messages = MessagesEventstoreReader{}

// Message implements app.Messages with one strongly consistent read of the message's entity; it returns
// app.ErrUnavailable (wrapped) when the store is down.
func (m MessagesEventstoreReader) Message(ctx context.Context, id domain.MessageID) (domain.Message, bool, error) {
	attrs, err := m.Store.Entity(ctx, string(id))
	if err != nil {
		return domain.Message{}, false, storeError("read message "+string(id), err)
	}
	if attrs == nil {
		return domain.Message{}, false, nil
	}
	return domain.Message{
		ID: id, Room: domain.RoomID(attrs[attrMessageRoom]), Author: domain.AccountID(attrs[attrMessageAuthor]),
		Deleted: attrs[attrMessageDeleted] == "true",
	}, true, nil
}
