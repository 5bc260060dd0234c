package domain

// Message is what the rules need of one message: the room it was posted in, its author, and whether it has been
// deleted. A room does not keep its messages, or its state would grow with every message ever posted; the writer
// keeps each message's Message beside the room, changed in the same transaction as the room's events, and hands it to the commands on that message.
type Message struct {
	ID      MessageID
	Room    RoomID
	Author  AccountID
	Deleted bool
}

// Known reports whether m describes a posted message; a Message with only an ID stands for one never posted.
func (m Message) Known() bool { return m.Room != "" && m.Author != "" }
