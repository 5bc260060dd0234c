package readmodel

import (
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
)

// nameAccount registers or renames an account and carries its name to its memberships and messages.
func (m *Model) nameAccount(id, name string, seq int64) {
	m.Accounts[id] = Account{ID: id, Name: name, Version: seq}
	for roomID := range m.memberOf[id] {
		members := m.Rooms[roomID].Members
		member := members[id]
		member.Name = name
		members[id] = member
	}
	for msgID := range m.sentBy[id] {
		msg := m.Messages[msgID]
		msg.SenderName = name
		m.Messages[msgID] = msg
	}
}

// createRoom adds a room whose creator is its first admin; a second RoomCreated of a room is ignored.
func (m *Model) createRoom(id string, p *schemas.RoomCreatedV1, seq int64) {
	if _, ok := m.Rooms[id]; ok || seq != 1 {
		return
	}
	m.Rooms[id] = Room{ID: id, Name: p.Name, Version: seq, Members: map[string]Member{}}
	m.addMember(id, p.CreatedBy, schemas.RoleAdmin)
}

// applyToRoom applies an event of an existing room; events of a room that is not live change only its seq.
func (m *Model) applyToRoom(id string, seq int64, at time.Time, payload any) {
	room, ok := m.Rooms[id]
	if !ok {
		return
	}
	room.Version = seq
	switch p := payload.(type) {
	case *schemas.RoomRenamedV1:
		room.Name = p.Name
		for msgID := range m.roomMessages[id] {
			msg := m.Messages[msgID]
			msg.RoomName = p.Name
			m.Messages[msgID] = msg
		}
	case *schemas.MemberAddedV2:
		m.addMember(id, p.AccountID, p.Role)
	case *schemas.MemberRemovedV1:
		delete(room.Members, p.AccountID)
		delete(m.memberOf[p.AccountID], id)
	case *schemas.MessagePostedV1:
		room.LastMessageAt = at
		m.postMessage(room, p, at)
	case *schemas.MessageEditedV1:
		if msg, ok := m.Messages[p.MessageID]; ok && msg.RoomID == id {
			msg.Text, msg.EditedAt = p.Text, at
			m.Messages[p.MessageID] = msg
		}
	case *schemas.MessageDeletedV1:
		if msg, ok := m.Messages[p.MessageID]; ok && msg.RoomID == id {
			m.deleteMessage(msg)
		}
	case *schemas.RoomDeletedV1:
		m.deleteRoom(room)
		return
	}
	m.Rooms[id] = room
}

func (m *Model) addMember(roomID, accountID string, role schemas.Role) {
	m.Rooms[roomID].Members[accountID] = Member{AccountID: accountID, Name: m.Accounts[accountID].Name, Role: role}
	add(m.memberOf, accountID, roomID)
}

func (m *Model) postMessage(room Room, p *schemas.MessagePostedV1, at time.Time) {
	if _, ok := m.Messages[p.MessageID]; ok {
		return
	}
	m.Messages[p.MessageID] = Message{
		ID: p.MessageID, RoomID: room.ID, RoomName: room.Name, SenderID: p.AuthorID,
		SenderName: m.Accounts[p.AuthorID].Name, Text: p.Text, PostedAt: at,
	}
	add(m.sentBy, p.AuthorID, p.MessageID)
	add(m.roomMessages, room.ID, p.MessageID)
}

func (m *Model) deleteMessage(msg Message) {
	delete(m.Messages, msg.ID)
	delete(m.sentBy[msg.SenderID], msg.ID)
	delete(m.roomMessages[msg.RoomID], msg.ID)
}

// deleteRoom removes a room with its messages and memberships; its seq stays known.
func (m *Model) deleteRoom(room Room) {
	for msgID := range m.roomMessages[room.ID] {
		m.deleteMessage(m.Messages[msgID])
	}
	for accountID := range room.Members {
		delete(m.memberOf[accountID], room.ID)
	}
	delete(m.roomMessages, room.ID)
	delete(m.Rooms, room.ID)
}

func add(index map[string]set, key, value string) {
	s, ok := index[key]
	if !ok {
		s = set{}
		index[key] = s
	}
	s[value] = struct{}{}
}
