package views

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// statements returns the batch that writes c: account names first, so that the rows the room events insert
// read the names current in this transaction, then each table with one statement per kind of change.
func (c *changes) statements(sql *statements) *pgx.Batch {
	b := &pgx.Batch{}
	c.queueAccounts(b, sql)
	c.queueRooms(b, sql)
	return b
}

func (c *changes) queueAccounts(b *pgx.Batch, sql *statements) {
	renamed := slices.Sorted(maps.Keys(c.accounts))
	if len(renamed) > 0 {
		names := make([]string, len(renamed))
		versions := make([]int64, len(renamed))
		for i, id := range renamed {
			names[i], versions[i] = c.accounts[id].name, c.accounts[id].version
		}
		b.Queue(sql.upsertAccounts, renamed, names, versions)
		b.Queue(sql.upsertNames, renamed, names, versions)
	}
	// The accounts whose names the new member and message rows copy: a row in names for each, locked FOR SHARE
	// so that a rename in another transaction waits for this one (and then updates these rows), or this one
	// waits for it (and then copies the new name).
	refs := map[string]struct{}{}
	for k, m := range c.members {
		if !m.removed && !c.rooms[k.room].deleted {
			refs[k.account] = struct{}{}
		}
	}
	for _, m := range c.messages {
		if m.ins != nil && !c.rooms[m.room].deleted {
			refs[m.ins.sender] = struct{}{}
		}
	}
	for _, id := range renamed {
		delete(refs, id) // locked already, by the upsert
	}
	if len(refs) > 0 {
		ids := slices.Sorted(maps.Keys(refs))
		b.Queue(sql.insertUnknownNames, ids)
		b.Queue(sql.shareNames, ids)
	}
	if len(renamed) > 0 {
		b.Queue(sql.renameMembers, renamed)
		b.Queue(sql.renameMessages, renamed)
	}
}

func (c *changes) queueRooms(b *pgx.Batch, sql *statements) {
	ids := slices.Sorted(maps.Keys(c.rooms))
	var deleted, created, createdNames []string
	var upd roomUpdates
	for _, id := range ids {
		r := c.rooms[id]
		switch {
		case r.deleted:
			deleted = append(deleted, id)
			continue
		case r.created:
			created, createdNames = append(created, id), append(createdNames, r.name)
		}
		if r.version > 0 {
			upd.add(id, r)
		}
	}
	if len(deleted) > 0 {
		b.Queue(sql.deleteRoomMessages, deleted)
		b.Queue(sql.deleteRoomMembers, deleted)
		b.Queue(sql.deleteRooms, deleted)
	}
	if len(created) > 0 {
		b.Queue(sql.insertRooms, created, createdNames)
	}
	c.queueMembers(b, sql)
	c.queueMessages(b, sql)
	// Last, so that member_count counts the members as this batch leaves them.
	if len(upd.ids) > 0 {
		b.Queue(sql.updateRooms, upd.ids, upd.names, upd.lastMessageAt, upd.versions, upd.membersChanged)
	}
}

type roomUpdates struct {
	ids            []string
	names          []*string
	lastMessageAt  []*time.Time
	versions       []int64
	membersChanged []bool
}

func (u *roomUpdates) add(id string, r *roomChange) {
	var name *string
	if r.named {
		name = &r.name
	}
	var last *time.Time
	if !r.lastMessageAt.IsZero() {
		last = &r.lastMessageAt
	}
	u.ids, u.names, u.lastMessageAt = append(u.ids, id), append(u.names, name), append(u.lastMessageAt, last)
	u.versions, u.membersChanged = append(u.versions, r.version), append(u.membersChanged, r.membersChanged)
}

func (c *changes) queueMembers(b *pgx.Batch, sql *statements) {
	keys := slices.SortedFunc(maps.Keys(c.members), func(a, b memberKey) int {
		return cmp.Or(cmp.Compare(a.room, b.room), cmp.Compare(a.account, b.account))
	})
	var delRooms, delAccounts, upRooms, upAccounts, upRoles []string
	for _, k := range keys {
		if c.rooms[k.room].deleted {
			continue
		}
		if m := c.members[k]; m.removed {
			delRooms, delAccounts = append(delRooms, k.room), append(delAccounts, k.account)
		} else {
			upRooms, upAccounts, upRoles = append(upRooms, k.room), append(upAccounts, k.account), append(upRoles, string(m.role))
		}
	}
	if len(delRooms) > 0 {
		b.Queue(sql.deleteMembers, delRooms, delAccounts)
	}
	if len(upRooms) > 0 {
		b.Queue(sql.upsertMembers, upRooms, upAccounts, upRoles)
	}
}

func (c *changes) queueMessages(b *pgx.Batch, sql *statements) {
	var (
		delIDs, delRooms                       []string
		insIDs, insRooms, insSenders, insTexts []string
		insPosted                              []time.Time
		insEdited                              []*time.Time
		editIDs, editRooms, editTexts          []string
		editAt                                 []time.Time
	)
	for _, id := range slices.Sorted(maps.Keys(c.messages)) {
		m := c.messages[id]
		if c.rooms[m.room].deleted {
			continue
		}
		if m.del {
			delIDs, delRooms = append(delIDs, id), append(delRooms, m.room)
		}
		if r := m.ins; r != nil {
			var edited *time.Time
			if !r.editedAt.IsZero() {
				edited = &r.editedAt
			}
			insIDs, insRooms, insSenders = append(insIDs, id), append(insRooms, m.room), append(insSenders, r.sender)
			insTexts, insPosted, insEdited = append(insTexts, r.text), append(insPosted, r.postedAt), append(insEdited, edited)
		}
		if e := m.edit; e != nil {
			editIDs, editRooms = append(editIDs, id), append(editRooms, m.room)
			editTexts, editAt = append(editTexts, e.text), append(editAt, e.at)
		}
	}
	if len(delIDs) > 0 {
		b.Queue(sql.deleteMessages, delIDs, delRooms)
	}
	if len(insIDs) > 0 {
		b.Queue(sql.insertMessages, insIDs, insRooms, insSenders, insTexts, insPosted, insEdited)
	}
	if len(editIDs) > 0 {
		b.Queue(sql.editMessages, editIDs, editRooms, editTexts, editAt)
	}
}
