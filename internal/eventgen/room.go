package eventgen

import (
	"slices"

	"github.com/cqrses-aws/pipeline/schemas"
)

// maxTrackedMessages bounds the live messages a room remembers for edits and deletes; past it a random one
// is forgotten (it stays live, it is just never edited or deleted).
const maxTrackedMessages = 200

// room is what the rules need of a live room: its members and roles, and some of its live messages.
type room struct {
	id       string
	seq      int64
	members  []string         // in no particular order
	index    map[string]int   // account id → position in members
	admins   []string         // the admin members, at least one
	messages []trackedMessage // some live messages
}

// trackedMessage is a live message and its author.
type trackedMessage struct {
	id, author string
}

func (r *room) isMember(account string) bool {
	_, ok := r.index[account]
	return ok
}

func (r *room) add(account string, role schemas.Role) {
	r.index[account] = len(r.members)
	r.members = append(r.members, account)
	if role == schemas.RoleAdmin {
		r.admins = append(r.admins, account)
	}
}

func (r *room) remove(account string) {
	i := r.index[account]
	last := r.members[len(r.members)-1]
	r.members[i], r.index[last] = last, i
	r.members = r.members[:len(r.members)-1]
	delete(r.index, account)
	if j := slices.Index(r.admins, account); j >= 0 {
		r.admins = slices.Delete(r.admins, j, j+1)
	}
}

func (g *Generator) pickMember(r *room) string { return r.members[g.rng.IntN(len(r.members))] }

func (g *Generator) pickAdmin(r *room) string { return r.admins[g.rng.IntN(len(r.admins))] }

func (g *Generator) createRoom() schemas.Envelope {
	creator := g.pickAccount().id
	r := &room{id: "room-" + g.ulid(), index: map[string]int{}}
	// RoomCreated makes the creator the first admin: the writer emits no MemberAdded for it.
	r.add(creator, schemas.RoleAdmin)
	g.rooms = append(g.rooms, r)
	g.buf = appendObject(g.buf[:0], "name", g.roomName(), "created_by", creator)
	return g.roomEvent(r, schemas.TypeRoomCreated, 1)
}

func (g *Generator) renameRoom(r *room) schemas.Envelope {
	g.buf = appendObject(g.buf[:0], "name", g.roomName(), "renamed_by", g.pickAdmin(r))
	return g.roomEvent(r, schemas.TypeRoomRenamed, 1)
}

func (g *Generator) addMember(r *room) (schemas.Envelope, bool) {
	if len(r.members) >= len(g.accounts) {
		return schemas.Envelope{}, false
	}
	for range 4 {
		account := g.pickAccount().id
		if r.isMember(account) {
			continue
		}
		by := g.pickAdmin(r)
		if g.rng.IntN(1000) < v1Share {
			// Version 1 had no role: every member it added is a plain member.
			r.add(account, schemas.RoleMember)
			g.buf = appendObject(g.buf[:0], "account_id", account, "added_by", by)
			return g.roomEvent(r, schemas.TypeMemberAdded, 1), true
		}
		role := schemas.RoleMember
		if g.rng.IntN(10) == 0 {
			role = schemas.RoleAdmin
		}
		r.add(account, role)
		g.buf = appendObject(g.buf[:0], "account_id", account, "role", string(role), "added_by", by)
		return g.roomEvent(r, schemas.TypeMemberAdded, 2), true
	}
	return schemas.Envelope{}, false
}

func (g *Generator) removeMember(r *room) (schemas.Envelope, bool) {
	account := g.pickMember(r)
	if len(r.admins) == 1 && r.admins[0] == account {
		return schemas.Envelope{}, false // the last admin stays
	}
	by := g.pickAdmin(r)
	r.remove(account)
	g.buf = appendObject(g.buf[:0], "account_id", account, "removed_by", by)
	return g.roomEvent(r, schemas.TypeMemberRemoved, 1), true
}

func (g *Generator) post(r *room) schemas.Envelope {
	m := trackedMessage{id: "msg-" + g.ulid(), author: g.pickMember(r)}
	if len(r.messages) < maxTrackedMessages {
		r.messages = append(r.messages, m)
	} else {
		r.messages[g.rng.IntN(len(r.messages))] = m
	}
	g.buf = g.appendTextField(appendObject(g.buf[:0], "message_id", m.id, "author_id", m.author))
	return g.roomEvent(r, schemas.TypeMessagePosted, 1)
}

// edit has the author of a tracked message edit it; false when there is none or its author left the room.
func (g *Generator) edit(r *room) (schemas.Envelope, bool) {
	if len(r.messages) == 0 {
		return schemas.Envelope{}, false
	}
	m := r.messages[g.rng.IntN(len(r.messages))]
	if !r.isMember(m.author) {
		return schemas.Envelope{}, false
	}
	g.buf = g.appendTextField(appendObject(g.buf[:0], "message_id", m.id, "edited_by", m.author))
	return g.roomEvent(r, schemas.TypeMessageEdited, 1), true
}

// deleteMessage has a tracked message deleted by its author (when still a member) or by an admin.
func (g *Generator) deleteMessage(r *room) (schemas.Envelope, bool) {
	if len(r.messages) == 0 {
		return schemas.Envelope{}, false
	}
	i := g.rng.IntN(len(r.messages))
	m := r.messages[i]
	by := m.author
	if !r.isMember(by) || g.rng.IntN(5) == 0 {
		by = g.pickAdmin(r)
	}
	r.messages[i] = r.messages[len(r.messages)-1]
	r.messages = r.messages[:len(r.messages)-1]
	g.buf = appendObject(g.buf[:0], "message_id", m.id, "deleted_by", by)
	return g.roomEvent(r, schemas.TypeMessageDeleted, 1), true
}

// deleteRoom deletes a live room, which the generator then forgets.
func (g *Generator) deleteRoom() schemas.Envelope {
	i := g.rng.IntN(len(g.rooms))
	r := g.rooms[i]
	g.rooms = slices.Delete(g.rooms, i, i+1)
	g.buf = appendObject(g.buf[:0], "deleted_by", g.pickAdmin(r))
	return g.roomEvent(r, schemas.TypeRoomDeleted, 1)
}

// appendTextField adds a "text" field with a new text to the JSON object that ends obj.
func (g *Generator) appendTextField(obj []byte) []byte {
	obj = append(obj[:len(obj)-1], `,"text":`...)
	return append(g.appendText(obj), '}')
}

func (g *Generator) roomEvent(r *room, eventType string, version int) schemas.Envelope {
	r.seq++
	return g.envelope(eventType, version, schemas.AggregateTypeRoom, r.id, r.seq)
}
