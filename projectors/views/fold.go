package views

import (
	"errors"
	"fmt"
	"time"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// changes is a batch folded in memory: the final state of every row the batch touches, so that each row is
// written once whatever the number of events about it.
type changes struct {
	accounts map[string]accountChange
	rooms    map[string]*roomChange
	members  map[memberKey]memberChange
	messages map[string]*messageChange
}

type accountChange struct {
	name    string
	version int64
}

type roomChange struct {
	created        bool   // RoomCreated is in the batch: insert the row
	deleted        bool   // RoomDeleted is in the batch: delete the room, its members and messages
	name           string // the new name, when created or renamed
	named          bool
	version        int64
	lastMessageAt  time.Time // OccurredAt of the batch's last MessagePosted; zero if none
	membersChanged bool      // recount member_count
}

type memberKey struct{ room, account string }

type memberChange struct {
	removed bool
	role    schemas.Role
}

// messageChange is what happens to one message row: delete the stored one, insert a new one, or edit the stored
// one (insert already carries the batch's edits).
type messageChange struct {
	id, room string
	del      bool
	ins      *messageRow
	edit     *messageEdit
}

type messageRow struct {
	sender, text       string
	postedAt, editedAt time.Time
}

type messageEdit struct {
	text string
	at   time.Time
}

func newChanges() *changes {
	return &changes{
		accounts: map[string]accountChange{},
		rooms:    map[string]*roomChange{},
		members:  map[memberKey]memberChange{},
		messages: map[string]*messageChange{},
	}
}

// storable returns why ev can never be written to the views, or nil: a payload type the fold does not handle
// (a new event type whose views code is not deployed yet), or a NUL character, which Postgres text refuses.
func storable(ev projection.Event) error {
	switch ev.Payload.(type) {
	case *schemas.AccountRegisteredV1, *schemas.AccountRenamedV1, *schemas.RoomCreatedV1, *schemas.RoomRenamedV1,
		*schemas.MemberAddedV2, *schemas.MemberRemovedV1, *schemas.MessagePostedV1, *schemas.MessageEditedV1,
		*schemas.MessageDeletedV1, *schemas.RoomDeletedV1:
	default:
		return fmt.Errorf("the views fold does not handle %s (payload %T)", ev.Type, ev.Payload)
	}
	if hasNUL(ev.Envelope.Payload) {
		return errors.New("the payload holds a NUL character, which Postgres text cannot store")
	}
	return nil
}

// hasNUL reports whether the JSON text raw holds an escaped NUL character (\u0000, not an escaped backslash
// followed by "u0000").
func hasNUL(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if len(raw) >= i+6 && string(raw[i+1:i+6]) == "u0000" {
			return true
		}
		i++ // the escaped character
	}
	return false
}

// add folds one event, mirroring readmodel.Model.Apply for a room whose stored state it does not know: the
// statements that write the changes skip rows of rooms that do not exist.
func (c *changes) add(ev projection.Event) {
	at := ev.OccurredAt.UTC()
	switch p := ev.Payload.(type) {
	case *schemas.AccountRegisteredV1:
		c.accounts[ev.AggregateID] = accountChange{name: p.Name, version: ev.Seq}
	case *schemas.AccountRenamedV1:
		c.accounts[ev.AggregateID] = accountChange{name: p.Name, version: ev.Seq}
	case *schemas.RoomCreatedV1:
		if ev.Seq != 1 {
			return
		}
		r := c.room(ev.AggregateID)
		if r.deleted {
			return
		}
		r.created, r.name, r.named, r.version = true, p.Name, true, ev.Seq
		c.setMember(r, ev.AggregateID, p.CreatedBy, memberChange{role: schemas.RoleAdmin})
	default:
		r := c.room(ev.AggregateID)
		if r.deleted {
			return
		}
		r.version = ev.Seq
		c.addToRoom(r, ev.AggregateID, at, ev.Payload)
	}
}

func (c *changes) addToRoom(r *roomChange, room string, at time.Time, payload any) {
	switch p := payload.(type) {
	case *schemas.RoomRenamedV1:
		r.name, r.named = p.Name, true
	case *schemas.MemberAddedV2:
		c.setMember(r, room, p.AccountID, memberChange{role: p.Role})
	case *schemas.MemberRemovedV1:
		c.setMember(r, room, p.AccountID, memberChange{removed: true})
	case *schemas.MessagePostedV1:
		r.lastMessageAt = at
		c.post(room, p, at)
	case *schemas.MessageEditedV1:
		c.editMessage(room, p, at)
	case *schemas.MessageDeletedV1:
		c.deleteMessage(room, p.MessageID)
	case *schemas.RoomDeletedV1:
		// The room's rows all go; the batch's other changes to them are skipped when written.
		r.deleted, r.created, r.membersChanged = true, false, false
	}
}

func (c *changes) room(id string) *roomChange {
	r, ok := c.rooms[id]
	if !ok {
		r = &roomChange{}
		c.rooms[id] = r
	}
	return r
}

func (c *changes) setMember(r *roomChange, room, account string, m memberChange) {
	c.members[memberKey{room, account}] = m
	r.membersChanged = true
}

func (c *changes) post(room string, p *schemas.MessagePostedV1, at time.Time) {
	m, ok := c.messages[p.MessageID]
	switch {
	case !ok:
		m = &messageChange{id: p.MessageID, room: room}
		c.messages[p.MessageID] = m
	case m.ins != nil || !m.del:
		return // the message is live already (posted in this batch or stored): a second post changes nothing
	}
	m.room, m.edit = room, nil
	m.ins = &messageRow{sender: p.AuthorID, text: p.Text, postedAt: at}
}

func (c *changes) editMessage(room string, p *schemas.MessageEditedV1, at time.Time) {
	m, ok := c.messages[p.MessageID]
	switch {
	case !ok:
		c.messages[p.MessageID] = &messageChange{id: p.MessageID, room: room, edit: &messageEdit{text: p.Text, at: at}}
	case m.room != room:
		return // a message of another room is not this room's to edit
	case m.ins != nil:
		m.ins.text, m.ins.editedAt = p.Text, at
	case !m.del:
		m.edit = &messageEdit{text: p.Text, at: at}
	}
}

func (c *changes) deleteMessage(room, id string) {
	m, ok := c.messages[id]
	switch {
	case !ok:
		c.messages[id] = &messageChange{id: id, room: room, del: true}
	case m.room != room:
		return
	case m.ins != nil && !m.del:
		delete(c.messages, id) // posted and deleted within the batch: nothing to write
	default:
		m.ins, m.edit, m.del = nil, nil, true
	}
}
