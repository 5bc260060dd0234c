package views

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// writes are the rows a batch writes, decided from its changes and what is stored.
type writes struct {
	renamed, renamedNames []string

	deletedRooms, createdRooms, createdNames []string
	rooms                                    roomUpdates

	delMemberRooms, delMemberAccounts                       []string
	upMemberRooms, upMemberAccounts, upMemberNames, upRoles []string

	newMessages           [][]any
	delMessages, delRooms []string
	editIDs, editRooms    []string
	editTexts             []string
	editAt                []time.Time
}

// planRooms decides the account renames and the room rows to write. member_count moves by the members the
// batch actually adds and removes, which planRows writes for the rooms that exist.
func (c *changes) planRooms(st *stored) *writes {
	w := &writes{}
	for _, id := range slices.Sorted(maps.Keys(c.accounts)) {
		w.renamed, w.renamedNames = append(w.renamed, id), append(w.renamedNames, c.accounts[id].name)
	}
	delta := map[string]int32{}
	for k, m := range c.members {
		switch existed := st.members[k]; {
		case m.removed && existed:
			delta[k.room]--
		case !m.removed && !existed:
			delta[k.room]++
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.rooms)) {
		r := c.rooms[id]
		switch {
		case r.deleted:
			w.deletedRooms = append(w.deletedRooms, id)
			continue
		case r.created:
			w.createdRooms, w.createdNames = append(w.createdRooms, id), append(w.createdNames, r.name)
		}
		if r.version > 0 {
			w.rooms.add(id, r, delta[id])
		}
	}
	return w
}

// planRows decides the member and message rows to write, in the live rooms only (readmodel ignores events of
// a room that does not exist).
func (c *changes) planRows(w *writes, st *stored, live map[string]bool) {
	name := func(account string) string {
		if a, ok := c.accounts[account]; ok {
			return a.name
		}
		return st.names[account]
	}
	keys := slices.SortedFunc(maps.Keys(c.members), func(a, b memberKey) int {
		return cmp.Or(cmp.Compare(a.room, b.room), cmp.Compare(a.account, b.account))
	})
	for _, k := range keys {
		if !live[k.room] || c.rooms[k.room].deleted {
			continue
		}
		m, existed := c.members[k], st.members[k]
		switch {
		case m.removed && existed:
			w.delMemberRooms, w.delMemberAccounts = append(w.delMemberRooms, k.room), append(w.delMemberAccounts, k.account)
		case !m.removed:
			w.upMemberRooms, w.upMemberAccounts = append(w.upMemberRooms, k.room), append(w.upMemberAccounts, k.account)
			w.upMemberNames, w.upRoles = append(w.upMemberNames, name(k.account)), append(w.upRoles, string(m.role))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.messages)) {
		m := c.messages[id]
		if c.rooms[m.room].deleted {
			continue
		}
		if m.del {
			w.delMessages, w.delRooms = append(w.delMessages, id), append(w.delRooms, m.room)
		}
		if r := m.ins; r != nil && live[m.room] {
			var edited *time.Time
			if !r.editedAt.IsZero() {
				edited = &r.editedAt
			}
			w.newMessages = append(w.newMessages, []any{id, m.room, r.sender, name(r.sender), r.text, r.postedAt, edited})
		}
		if e := m.edit; e != nil {
			w.editIDs, w.editRooms = append(w.editIDs, id), append(w.editRooms, m.room)
			w.editTexts, w.editAt = append(w.editTexts, e.text), append(w.editAt, e.at)
		}
	}
}

// roomBatch returns the statements that write the renames and the rooms; the last one, if any, returns the
// rooms that exist.
func (w *writes) roomBatch(sql *statements) *pgx.Batch {
	b := &pgx.Batch{}
	queue(b, sql.renameMembers, len(w.renamed), w.renamed, w.renamedNames)
	queue(b, sql.renameMessages, len(w.renamed), w.renamed, w.renamedNames)
	queue(b, sql.deleteRoomMessages, len(w.deletedRooms), w.deletedRooms)
	queue(b, sql.deleteRoomMembers, len(w.deletedRooms), w.deletedRooms)
	queue(b, sql.deleteRooms, len(w.deletedRooms), w.deletedRooms)
	queue(b, sql.insertRooms, len(w.createdRooms), w.createdRooms, w.createdNames)
	return b
}

// rowBatch returns the statements that write the members and the messages (the new messages aside, which are
// copied); deletes come first, so that a message deleted and posted again is copied after its delete.
func (w *writes) rowBatch(sql *statements) *pgx.Batch {
	b := &pgx.Batch{}
	queue(b, sql.deleteMembers, len(w.delMemberRooms), w.delMemberRooms, w.delMemberAccounts)
	queue(b, sql.upsertMembers, len(w.upMemberRooms), w.upMemberRooms, w.upMemberAccounts, w.upMemberNames, w.upRoles)
	queue(b, sql.deleteMessages, len(w.delMessages), w.delMessages, w.delRooms)
	queue(b, sql.editMessages, len(w.editIDs), w.editIDs, w.editRooms, w.editTexts, w.editAt)
	return b
}

func queue(b *pgx.Batch, query string, n int, args ...any) {
	if n > 0 {
		b.Queue(query, args...)
	}
}

type roomUpdates struct {
	ids           []string
	names         []*string
	lastMessageAt []*time.Time
	versions      []int64
	membersDelta  []int32
}

func (u *roomUpdates) add(id string, r *roomChange, membersDelta int32) {
	var name *string
	if r.named {
		name = &r.name
	}
	var last *time.Time
	if !r.lastMessageAt.IsZero() {
		last = &r.lastMessageAt
	}
	u.ids, u.names, u.lastMessageAt = append(u.ids, id), append(u.names, name), append(u.lastMessageAt, last)
	u.versions, u.membersDelta = append(u.versions, r.version), append(u.membersDelta, membersDelta)
}
