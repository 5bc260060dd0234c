package e2e

import (
	"slices"
	"testing"
)

// conversationWithRenames: three accounts talk in a room, in English and Japanese; then the room and an account
// are renamed, and the room list, the room, its messages and the search all show the new names.
func conversationWithRenames(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	alice, bob, carol := newUser(t, sys, "alice"), newUser(t, sys, "bob"), newUser(t, sys, "carol")
	registered := map[*user]command{
		alice: alice.register(t, "Alice "+x), bob: bob.register(t, "Bob "+x), carol: carol.register(t, "Carol "+x),
	}
	room := alice.createRoom(t, "Kickoff "+x)
	alice.addMember(t, room.ID, bob, "member")
	alice.addMember(t, room.ID, carol, "admin")
	word := "agenda" + x
	hello := alice.post(t, room.ID, "Welcome everyone, the "+word+" is in the doc")
	japanese := bob.post(t, room.ID, "明日の会議は10時からです")
	last := carol.post(t, room.ID, "Thanks, see you at the "+word+" review")

	// The accounts are other aggregates than the room: wait on their own tokens, in both read models, before
	// expecting their names in rows of the room.
	for u, reg := range registered {
		if got := decode[accountView](t, u.account(t, u.id, reg.ConsistencyToken)); got.ID != u.id || got.Name != u.name {
			t.Errorf("GET /v1/accounts/%s = %+v, want name %q", u.id, got, u.name)
		}
		u.search(t, word, "", reg.ConsistencyToken)
	}

	// Before the renames.
	for _, u := range []*user{alice, bob, carol} {
		r, ok := findRoom(u.rooms(t, last.ConsistencyToken), room.ID)
		if !ok {
			t.Fatalf("%s's GET /v1/rooms lacks room %s", u.id, room.ID)
		}
		if r.Name != "Kickoff "+x || r.MemberCount != 3 || r.LastMessageAt == nil || r.Version != last.Version {
			t.Errorf("%s's room list item = %+v, want name %q, 3 members, a last message and version %d",
				u.id, r, "Kickoff "+x, last.Version)
		}
	}
	details := decode[roomDetails](t, bob.room(t, room.ID, last.ConsistencyToken))
	wantMembers := map[string]member{
		alice.id: {alice.id, "Alice " + x, "admin"}, bob.id: {bob.id, "Bob " + x, "member"}, carol.id: {carol.id, "Carol " + x, "admin"},
	}
	checkDetails(t, details, room.ID, "Kickoff "+x, last.Version, wantMembers)
	hits := bob.search(t, "会議", room.ID, last.ConsistencyToken)
	h, ok := findHit(hits.Items, japanese.MessageID)
	if !ok || len(hits.Items) != 1 {
		t.Fatalf("search 会議 in %s = %+v, want the Japanese message only", room.ID, hits.Items)
	}
	if h.Text != "明日の会議は10時からです" || h.RoomID != room.ID || h.RoomName != "Kickoff "+x || h.Sender != (sender{bob.id, "Bob " + x}) {
		t.Errorf("search hit = %+v, want the Japanese text in %s (Kickoff %s) by Bob %s", h, room.ID, x, x)
	}
	checkHighlight(t, h, "会議")

	// The renames, each waited for with its own token.
	roomRenamed := alice.renameRoom(t, room.ID, "Kickoff renamed "+x)
	bobRenamed := bob.rename(t, "Robert "+x)

	for _, u := range []*user{alice, bob, carol} {
		r, ok := findRoom(u.rooms(t, roomRenamed.ConsistencyToken), room.ID)
		if !ok || r.Name != "Kickoff renamed "+x || r.Version != roomRenamed.Version || r.MemberCount != 3 {
			t.Errorf("%s's room list item after the rename = %+v (found %v), want name %q, version %d, 3 members",
				u.id, r, ok, "Kickoff renamed "+x, roomRenamed.Version)
		}
	}
	// Bob's rename may already show here, or not yet: only the room's own fields are checked.
	if d := decode[roomDetails](t, carol.room(t, room.ID, roomRenamed.ConsistencyToken)); d.Name != "Kickoff renamed "+x ||
		d.Version != roomRenamed.Version || len(d.Members) != 3 {
		t.Errorf("room details after the rename = %+v, want %q at version %d with 3 members", d, "Kickoff renamed "+x, roomRenamed.Version)
	}
	wantMembers[bob.id] = member{bob.id, "Robert " + x, "member"}
	checkDetails(t, decode[roomDetails](t, carol.room(t, room.ID, bobRenamed.ConsistencyToken)),
		room.ID, "Kickoff renamed "+x, roomRenamed.Version, wantMembers)
	if got := decode[accountView](t, alice.account(t, bob.id, bobRenamed.ConsistencyToken)); got.Name != "Robert "+x {
		t.Errorf("GET /v1/accounts/%s after the rename = %+v, want Robert %s", bob.id, got, x)
	}

	page := decode[messagePage](t, carol.messages(t, room.ID, bobRenamed.ConsistencyToken))
	want := []message{
		{ID: last.MessageID, RoomID: room.ID, Sender: sender{carol.id, "Carol " + x}, Text: "Thanks, see you at the " + word + " review"},
		{ID: japanese.MessageID, RoomID: room.ID, Sender: sender{bob.id, "Robert " + x}, Text: "明日の会議は10時からです"},
		{ID: hello.MessageID, RoomID: room.ID, Sender: sender{alice.id, "Alice " + x}, Text: "Welcome everyone, the " + word + " is in the doc"},
	}
	if len(page.Items) != len(want) || page.NextCursor != nil {
		t.Fatalf("messages = %+v (next %v), want the 3 messages newest first and no next_cursor", page.Items, page.NextCursor)
	}
	for i, m := range page.Items {
		w := want[i]
		if m.ID != w.ID || m.RoomID != w.RoomID || m.Sender != w.Sender || m.Text != w.Text || m.EditedAt != nil || m.PostedAt.IsZero() {
			t.Errorf("message %d = %+v, want %+v, not edited, with posted_at", i, m, w)
		}
	}
	if r, _ := findRoom(carol.rooms(t, ""), room.ID); r.LastMessageAt == nil || !r.LastMessageAt.Equal(page.Items[0].PostedAt) {
		t.Errorf("room list item %+v: last_message_at is not the newest message's posted_at %s", r, page.Items[0].PostedAt)
	}

	// The search model is another read model: wait on both tokens there as well.
	bob.search(t, "会議", room.ID, roomRenamed.ConsistencyToken)
	hits = bob.search(t, "会議", room.ID, bobRenamed.ConsistencyToken)
	if h, ok := findHit(hits.Items, japanese.MessageID); !ok || h.RoomName != "Kickoff renamed "+x || h.Sender.Name != "Robert "+x {
		t.Errorf("search 会議 after the renames = %+v, want the message with room_name %q and sender Robert %s",
			hits.Items, "Kickoff renamed "+x, x)
	}
	hits = carol.search(t, word, "", bobRenamed.ConsistencyToken)
	var ids []string
	for _, h := range hits.Items {
		ids = append(ids, h.MessageID)
		if h.RoomID != room.ID || h.RoomName != "Kickoff renamed "+x {
			t.Errorf("search %s: hit %+v, want room %s named %q", word, h, room.ID, "Kickoff renamed "+x)
		}
		checkHighlight(t, h, word)
	}
	slices.Sort(ids)
	if wantIDs := []string{hello.MessageID, last.MessageID}; !slices.Equal(ids, sortedCopy(wantIDs)) {
		t.Errorf("search %s found %v, want %v", word, ids, wantIDs)
	}
}

// checkDetails fails the test unless d is room id with name, version and exactly the members want.
func checkDetails(t *testing.T, d roomDetails, id, name string, version int64, want map[string]member) {
	t.Helper()
	if d.ID != id || d.Name != name || d.Version != version {
		t.Errorf("room details = %s %q v%d, want %s %q v%d", d.ID, d.Name, d.Version, id, name, version)
	}
	if len(d.Members) != len(want) {
		t.Errorf("room %s members = %+v, want %d", id, d.Members, len(want))
	}
	for _, m := range d.Members {
		if w, ok := want[m.AccountID]; !ok || m != w {
			t.Errorf("room %s member %+v, want %+v", id, m, w)
		}
	}
}

// sortedCopy returns s sorted, leaving s as it was.
func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
