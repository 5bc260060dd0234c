package search_test

import (
	"fmt"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// mixedStream returns n events of a chat: about 70% MessagePosted over rooms rooms, with edits, deletes,
// members, renames of rooms and accounts, a few room deletions, and account registrations that may come after
// the account's first messages.
func mixedStream(seed uint64, n, rooms, accounts int) []projection.Event {
	s := newStream(seed)
	var out []projection.Event
	var live []string // created, not deleted rooms
	roomOf := map[string]string{}
	var msgs []string // posted, maybe deleted since
	registered := make([]bool, accounts)
	account := func(i int) string { return fmt.Sprintf("acct-%05d", i) }
	created := 0
	texts := []string{"明日の会議は10時からです", "lunch at noon?", "the deploy is done", "了解です！よろしくお願いします",
		"can you review my PR before 5pm", "今日は在宅勤務です"}
	for len(out) < n {
		r := s.rnd.IntN(1000)
		a := account(s.rnd.IntN(accounts))
		switch {
		case len(live) == 0 || (r < 40 && created < rooms):
			id := s.newID("room-")
			created++
			live = append(live, id)
			out = append(out, s.ev(id, &schemas.RoomCreatedV1{Name: fmt.Sprintf("room %d", created), CreatedBy: a}))
		case r < 80:
			i := s.rnd.IntN(accounts)
			if registered[i] {
				out = append(out, s.ev(account(i), &schemas.AccountRenamedV1{Name: fmt.Sprintf("user %d.%d", i, len(out))}))
			} else {
				registered[i] = true
				out = append(out, s.ev(account(i), &schemas.AccountRegisteredV1{Name: fmt.Sprintf("user %d", i)}))
			}
		case r < 100:
			room := live[s.rnd.IntN(len(live))]
			out = append(out, s.ev(room, &schemas.RoomRenamedV1{Name: fmt.Sprintf("room %d'", len(out)), RenamedBy: a}))
		case r < 150:
			room := live[s.rnd.IntN(len(live))]
			out = append(out, s.ev(room, &schemas.MemberAddedV2{AccountID: a, Role: schemas.RoleMember, AddedBy: a}))
		case r < 160:
			room := live[s.rnd.IntN(len(live))]
			out = append(out, s.ev(room, &schemas.MemberRemovedV1{AccountID: a, RemovedBy: a}))
		case r < 240 && len(msgs) > 0:
			id := msgs[s.rnd.IntN(len(msgs))]
			out = append(out, s.ev(roomOf[id], &schemas.MessageEditedV1{MessageID: id, Text: texts[s.rnd.IntN(len(texts))] + " (edited)", EditedBy: a}))
		case r < 290 && len(msgs) > 0:
			i := s.rnd.IntN(len(msgs))
			id := msgs[i]
			msgs[i] = msgs[len(msgs)-1]
			msgs = msgs[:len(msgs)-1]
			out = append(out, s.ev(roomOf[id], &schemas.MessageDeletedV1{MessageID: id, DeletedBy: a}))
		case r < 292 && len(live) > 1:
			i := s.rnd.IntN(len(live))
			room := live[i]
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
			out = append(out, s.ev(room, &schemas.RoomDeletedV1{DeletedBy: a}))
			kept := msgs[:0]
			for _, id := range msgs {
				if roomOf[id] != room {
					kept = append(kept, id)
				}
			}
			msgs = kept
		default:
			room := live[s.rnd.IntN(len(live))]
			id := s.newID("msg-")
			roomOf[id] = room
			msgs = append(msgs, id)
			out = append(out, s.ev(room, &schemas.MessagePostedV1{MessageID: id, AuthorID: a, Text: texts[s.rnd.IntN(len(texts))]}))
		}
	}
	return out
}
