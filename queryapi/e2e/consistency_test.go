package e2e

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/consistency"
)

// readYourWrites: after each kind of command, the query that passes its token reflects it at once (no
// X-Read-Model-Stale); a token of a write that never happens answers stale after about the timeout; a malformed
// one is rejected.
func readYourWrites(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	frank, gina := newUser(t, sys, "frank"), newUser(t, sys, "gina")

	c := frank.register(t, "Frank "+x)
	if got := decode[accountView](t, frank.account(t, frank.id, c.ConsistencyToken)); got.Name != "Frank "+x {
		t.Errorf("register: account = %+v, want Frank %s", got, x)
	}
	c = frank.rename(t, "Franklin "+x)
	if got := decode[accountView](t, frank.account(t, frank.id, c.ConsistencyToken)); got.Name != "Franklin "+x {
		t.Errorf("rename account: account = %+v, want Franklin %s", got, x)
	}
	c = gina.register(t, "Gina "+x)
	if got := decode[accountView](t, frank.account(t, gina.id, c.ConsistencyToken)); got.Name != "Gina "+x {
		t.Errorf("register: account = %+v, want Gina %s", got, x)
	}

	room := frank.createRoom(t, "Consistent "+x)
	if r, ok := findRoom(frank.rooms(t, room.ConsistencyToken), room.ID); !ok || r.Name != "Consistent "+x || r.MemberCount != 1 {
		t.Errorf("create room: list item = %+v (found %v), want Consistent %s with 1 member", r, ok, x)
	}
	c = frank.renameRoom(t, room.ID, "Consistent renamed "+x)
	if d := decode[roomDetails](t, frank.room(t, room.ID, c.ConsistencyToken)); d.Name != "Consistent renamed "+x || d.Version != c.Version {
		t.Errorf("rename room: details = %+v, want the new name at version %d", d, c.Version)
	}
	c = frank.addMember(t, room.ID, gina, "member")
	if d := decode[roomDetails](t, frank.room(t, room.ID, c.ConsistencyToken)); len(d.Members) != 2 {
		t.Errorf("add member: members = %+v, want frank and gina", d.Members)
	} else if m, ok := findMember(d.Members, gina.id); !ok || m.Role != "member" {
		t.Errorf("add member: members = %+v, want gina as a member", d.Members)
	}
	if _, ok := findRoom(gina.rooms(t, c.ConsistencyToken), room.ID); !ok {
		t.Errorf("add member: gina's room list lacks %s", room.ID)
	}

	word, edited := "walrus"+x, "narwhal"+x
	p := frank.post(t, room.ID, "a "+word+" appears")
	if m, ok := findMessage(decode[messagePage](t, frank.messages(t, room.ID, p.ConsistencyToken)).Items, p.MessageID); !ok || m.Text != "a "+word+" appears" {
		t.Errorf("post: message = %+v (found %v), want it with its text", m, ok)
	}
	if _, ok := findHit(frank.search(t, word, room.ID, p.ConsistencyToken).Items, p.MessageID); !ok {
		t.Errorf("post: search %s does not find the message", word)
	}
	c = frank.edit(t, room.ID, p.MessageID, "a "+edited+" instead")
	if m, ok := findMessage(decode[messagePage](t, frank.messages(t, room.ID, c.ConsistencyToken)).Items, p.MessageID); !ok || m.Text != "a "+edited+" instead" {
		t.Errorf("edit: message = %+v (found %v), want the new text", m, ok)
	}
	if h, ok := findHit(frank.search(t, edited, room.ID, c.ConsistencyToken).Items, p.MessageID); !ok || h.Text != "a "+edited+" instead" {
		t.Errorf("edit: search %s = %+v (found %v), want the edited message", edited, h, ok)
	}
	c = frank.deleteMessage(t, room.ID, p.MessageID)
	if page := decode[messagePage](t, frank.messages(t, room.ID, c.ConsistencyToken)); len(page.Items) != 0 {
		t.Errorf("delete message: messages = %+v, want none", page.Items)
	}
	if hits := frank.search(t, edited, room.ID, c.ConsistencyToken); len(hits.Items) != 0 {
		t.Errorf("delete message: search %s = %+v, want no hit", edited, hits.Items)
	}
	c = frank.removeMember(t, room.ID, gina)
	expect(t, gina.room(t, room.ID, c.ConsistencyToken), http.StatusNotFound)
	if d := decode[roomDetails](t, frank.room(t, room.ID, c.ConsistencyToken)); len(d.Members) != 1 {
		t.Errorf("remove member: members = %+v, want frank only", d.Members)
	}
	kept := frank.post(t, room.ID, "the "+word+" stays until the room goes")
	if _, ok := findHit(frank.search(t, word, "", kept.ConsistencyToken).Items, kept.MessageID); !ok {
		t.Errorf("post: search %s does not find the message", word)
	}
	c = frank.deleteRoom(t, room.ID)
	expect(t, frank.room(t, room.ID, c.ConsistencyToken), http.StatusNotFound)
	expect(t, frank.messages(t, room.ID, c.ConsistencyToken), http.StatusNotFound)
	if r, ok := findRoom(frank.rooms(t, c.ConsistencyToken), room.ID); ok {
		t.Errorf("delete room: frank's list still holds %+v", r)
	}
	if hits := frank.search(t, word, "", c.ConsistencyToken); len(hits.Items) != 0 {
		t.Errorf("delete room: search %s = %+v, want none of the deleted room's messages", word, hits.Items)
	}

	stale := frank.createRoom(t, "Stale "+x)
	t.Run("token of a write that never happens", func(t *testing.T) { neverWritten(t, sys, frank, stale.ID, x) })
	t.Run("malformed token", func(t *testing.T) { malformedTokens(t, sys, frank, stale.ID) })
}

// neverWritten passes tokens far beyond the aggregates' seqs to the query API that waits fastTimeout: each
// query still answers, after about that timeout, with X-Read-Model-Stale: true and the data it has.
func neverWritten(t *testing.T, sys *system, frank *user, roomID, x string) {
	post := frank.post(t, roomID, "stale "+x)
	// Wait on the real tokens on the patient query API first: the stale answers below must hold this data.
	frank.messages(t, roomID, post.ConsistencyToken)
	frank.search(t, "stale", roomID, post.ConsistencyToken)

	// A real, applied token on the impatient query API is fresh and quick.
	a := queryAs(t, sys.fastQuery, frank.token, "/v1/rooms/"+roomID, params("consistent_with", post.ConsistencyToken))
	if decode[roomDetails](t, a); a.stale() || a.Took > fastTimeout {
		t.Errorf("an applied token answered stale=%v after %s, want fresh within %s", a.stale(), a.Took, fastTimeout)
	}

	// Signed for frank with the key the services derive from the shared secret, as the writer would sign them.
	key, err := consistency.DeriveKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	roomToken := key.Sign(frank.id, consistency.Token{AggregateID: roomID, Seq: 1 << 40})
	accountToken := key.Sign(frank.id, consistency.Token{AggregateID: frank.id, Seq: 1 << 40})
	for _, q := range []struct {
		path, token string
		params      url.Values
		check       func(answer)
	}{
		{"/v1/rooms/" + roomID, roomToken, nil, func(a answer) {
			if d := decode[roomDetails](t, a); d.ID != roomID || d.Name != "Stale "+x {
				t.Errorf("stale details = %+v, want room %s", d, roomID)
			}
		}},
		{"/v1/rooms/" + roomID + "/messages", roomToken, nil, func(a answer) {
			if page := decode[messagePage](t, a); len(page.Items) != 1 || page.Items[0].ID != post.MessageID {
				t.Errorf("stale messages = %+v, want the posted message", page.Items)
			}
		}},
		{"/v1/search", roomToken, params("q", "stale", "room_id", roomID), func(a answer) {
			if page := decode[searchPage](t, a); len(page.Items) != 1 || page.Items[0].MessageID != post.MessageID {
				t.Errorf("stale search = %+v, want the posted message", page.Items)
			}
		}},
		{"/v1/rooms", accountToken, nil, func(a answer) {
			if _, ok := findRoom(decode[roomList](t, a).Items, roomID); !ok {
				t.Errorf("stale room list lacks %s", roomID)
			}
		}},
		{"/v1/accounts/" + frank.id, accountToken, nil, func(a answer) {
			if got := decode[accountView](t, a); got.ID != frank.id {
				t.Errorf("stale account = %+v, want %s", got, frank.id)
			}
		}},
	} {
		v := url.Values{}
		for k, vs := range q.params {
			v[k] = vs
		}
		v.Set("consistent_with", q.token)
		a := queryAs(t, sys.fastQuery, frank.token, q.path, v)
		q.check(a)
		if !a.stale() {
			t.Errorf("GET %s with a token never written: no X-Read-Model-Stale: true (headers %v)", q.path, a.Header)
		}
		t.Logf("GET %s with a token never written: %d, X-Read-Model-Stale %q after %s", q.path, a.Code,
			a.Header.Get("X-Read-Model-Stale"), a.Took.Round(time.Millisecond))
		// It waited for the timeout (give or take the clock), and not much longer.
		if a.Took < fastTimeout*9/10 || a.Took > 5*time.Second {
			t.Errorf("GET %s with a token never written answered after %s, want about %s (under 5s)", q.path, a.Took, fastTimeout)
		}
	}
}

// malformedTokens passes consistent_with values no writer made: 400 on every query.
func malformedTokens(t *testing.T, sys *system, u *user, room string) {
	b64 := base64.RawURLEncoding.EncodeToString
	for _, token := range []string{
		"garbage", "c1.", "c1.***", "c2." + b64([]byte("3:room-x")), "c1." + b64([]byte("abc:room-x")),
		"c1." + b64([]byte("0:room-x")), "c1." + b64([]byte("-5:room-x")), "c1." + b64([]byte("7:")),
	} {
		for _, path := range []string{"/v1/rooms", "/v1/rooms/" + room, "/v1/rooms/" + room + "/messages", "/v1/search", "/v1/accounts/" + u.id} {
			q := params("consistent_with", token)
			if path == "/v1/search" {
				q.Set("q", "anything")
			}
			a := queryAs(t, sys.Query, u.token, path, q)
			if a.Code != http.StatusBadRequest {
				t.Errorf("GET %s?consistent_with=%s = %d %s, want 400", path, token, a.Code, a.Body)
			}
		}
	}
}
