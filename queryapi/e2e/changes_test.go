package e2e

import (
	"net/http"
	"testing"
)

// memberRemoval: a member sees the room, its messages and their search hits; once removed (its token passed as
// consistent_with) the room answers it 404, leaves its list, and search finds none of the room's messages, with
// or without room_id, while the remaining admin still sees everything.
func memberRemoval(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	owner, dave := newUser(t, sys, "owner"), newUser(t, sys, "dave")
	owner.register(t, "Owner "+x)
	daveReg := dave.register(t, "Dave "+x)
	room := owner.createRoom(t, "Secrets "+x)
	owner.addMember(t, room.ID, dave, "member")
	word := "budget" + x
	posted := []command{
		owner.post(t, room.ID, "The "+word+" is approved"),
		dave.post(t, room.ID, "Great news about the "+word),
		owner.post(t, room.ID, "Next "+word+" review in May"),
	}
	last := posted[len(posted)-1]
	dave.search(t, word, "", daveReg.ConsistencyToken) // dave's name reached the search model

	// Before the removal, dave sees it all.
	if _, ok := findRoom(dave.rooms(t, last.ConsistencyToken), room.ID); !ok {
		t.Fatalf("before the removal, dave's room list lacks %s", room.ID)
	}
	if d := decode[roomDetails](t, dave.room(t, room.ID, last.ConsistencyToken)); len(d.Members) != 2 {
		t.Errorf("before the removal, room members = %+v, want 2", d.Members)
	}
	if page := decode[messagePage](t, dave.messages(t, room.ID, last.ConsistencyToken)); len(page.Items) != len(posted) {
		t.Errorf("before the removal, dave reads %d messages, want %d", len(page.Items), len(posted))
	}
	for _, filter := range []string{room.ID, ""} {
		if hits := dave.search(t, word, filter, last.ConsistencyToken); len(hits.Items) != len(posted) {
			t.Errorf("before the removal, dave's search %s (room_id %q) = %d hits, want %d", word, filter, len(hits.Items), len(posted))
		}
	}

	removed := owner.removeMember(t, room.ID, dave)

	expect(t, dave.room(t, room.ID, removed.ConsistencyToken), http.StatusNotFound)
	expect(t, dave.messages(t, room.ID, removed.ConsistencyToken), http.StatusNotFound)
	if r, ok := findRoom(dave.rooms(t, removed.ConsistencyToken), room.ID); ok {
		t.Errorf("after the removal, dave's room list still holds %+v", r)
	}
	for _, filter := range []string{room.ID, ""} {
		if hits := dave.search(t, word, filter, removed.ConsistencyToken); len(hits.Items) != 0 {
			t.Errorf("after the removal, dave's search %s (room_id %q) = %+v, want no hit", word, filter, hits.Items)
		}
	}

	// The admin still sees the room, now with one member, and every message.
	d := decode[roomDetails](t, owner.room(t, room.ID, removed.ConsistencyToken))
	if _, ok := findMember(d.Members, dave.id); ok || len(d.Members) != 1 {
		t.Errorf("after the removal, room members = %+v, want the owner only", d.Members)
	}
	if r, ok := findRoom(owner.rooms(t, removed.ConsistencyToken), room.ID); !ok || r.MemberCount != 1 {
		t.Errorf("after the removal, the owner's list item = %+v (found %v), want member_count 1", r, ok)
	}
	if page := decode[messagePage](t, owner.messages(t, room.ID, removed.ConsistencyToken)); len(page.Items) != len(posted) {
		t.Errorf("after the removal, the owner reads %d messages, want %d", len(page.Items), len(posted))
	}
	if hits := owner.search(t, word, room.ID, removed.ConsistencyToken); len(hits.Items) != len(posted) {
		t.Errorf("after the removal, the owner's search finds %d messages, want %d", len(hits.Items), len(posted))
	}

	// Added again, dave sees it all again: visibility follows the membership, not a memory of it.
	readded := owner.addMember(t, room.ID, dave, "member")
	expect(t, dave.room(t, room.ID, readded.ConsistencyToken), http.StatusOK)
	if page := decode[messagePage](t, dave.messages(t, room.ID, readded.ConsistencyToken)); len(page.Items) != len(posted) {
		t.Errorf("added again, dave reads %d messages, want %d", len(page.Items), len(posted))
	}
	if hits := dave.search(t, word, "", readded.ConsistencyToken); len(hits.Items) != len(posted) {
		t.Errorf("added again, dave's search finds %d messages, want %d", len(hits.Items), len(posted))
	}
}

// messageEditAndDelete: an edited message shows its new text in the messages and the search (the old text is
// no longer found); a deleted one is absent from both, and its neighbour stays.
func messageEditAndDelete(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	erin := newUser(t, sys, "erin")
	reg := erin.register(t, "Erin "+x)
	room := erin.createRoom(t, "Drafts "+x)
	before, after, keep := "zebra"+x, "giraffe"+x, "okapi"+x
	first := erin.post(t, room.ID, "first draft mentions the "+before)
	second := erin.post(t, room.ID, "second note about the "+keep)
	erin.search(t, keep, "", reg.ConsistencyToken)

	if hits := erin.search(t, before, "", second.ConsistencyToken); len(hits.Items) != 1 || hits.Items[0].MessageID != first.MessageID {
		t.Fatalf("before the edit, search %s = %+v, want the first message", before, hits.Items)
	}

	edited := erin.edit(t, room.ID, first.MessageID, "final text mentions the "+after)
	page := decode[messagePage](t, erin.messages(t, room.ID, edited.ConsistencyToken))
	m, ok := findMessage(page.Items, first.MessageID)
	if !ok || m.Text != "final text mentions the "+after || m.EditedAt == nil || m.EditedAt.Before(m.PostedAt) {
		t.Errorf("after the edit, message = %+v (found %v), want the new text and edited_at ≥ posted_at", m, ok)
	}
	if n, ok := findMessage(page.Items, second.MessageID); !ok || n.Text != "second note about the "+keep || n.EditedAt != nil {
		t.Errorf("after the edit, the other message = %+v (found %v), want it unchanged", n, ok)
	}
	hits := erin.search(t, after, "", edited.ConsistencyToken)
	if len(hits.Items) != 1 || hits.Items[0].MessageID != first.MessageID || hits.Items[0].Text != "final text mentions the "+after {
		t.Errorf("after the edit, search %s = %+v, want the edited message with its new text", after, hits.Items)
	} else {
		checkHighlight(t, hits.Items[0], after)
	}
	if hits := erin.search(t, before, "", edited.ConsistencyToken); len(hits.Items) != 0 {
		t.Errorf("after the edit, search for the old word %s = %+v, want no hit", before, hits.Items)
	}

	deleted := erin.deleteMessage(t, room.ID, first.MessageID)
	page = decode[messagePage](t, erin.messages(t, room.ID, deleted.ConsistencyToken))
	if _, ok := findMessage(page.Items, first.MessageID); ok || len(page.Items) != 1 {
		t.Errorf("after the delete, messages = %+v, want the second message only", page.Items)
	}
	if hits := erin.search(t, after, "", deleted.ConsistencyToken); len(hits.Items) != 0 {
		t.Errorf("after the delete, search %s = %+v, want no hit", after, hits.Items)
	}
	if hits := erin.search(t, keep, room.ID, deleted.ConsistencyToken); len(hits.Items) != 1 || hits.Items[0].MessageID != second.MessageID {
		t.Errorf("after the delete, search %s = %+v, want the second message", keep, hits.Items)
	}
}
