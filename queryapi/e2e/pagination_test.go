package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// pagination: 130 messages in one room, walked 7 at a time by next_cursor, come each exactly once and newest
// first, in the messages (even with 5 more posted mid-walk) and in the search; 7 rooms walked 2 at a time
// likewise; the default page is 20; a cursor used on another room or changed by one character is rejected.
func pagination(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	henry := newUser(t, sys, "henry")
	reg := henry.register(t, "Henry "+x)
	room := henry.createRoom(t, "Busy "+x)
	word := "lynx" + x
	const total, limit = 130, 7
	var posted []string
	var last command
	for i := range total {
		last = henry.post(t, room.ID, fmt.Sprintf("message %03d about the %s", i, word))
		posted = append(posted, last.MessageID)
	}
	henry.search(t, word, "", reg.ConsistencyToken)

	// The default page is 20.
	if page := decode[messagePage](t, henry.get(t, "/v1/rooms/"+room.ID+"/messages", params("consistent_with", last.ConsistencyToken))); len(page.Items) != 20 || page.NextCursor == nil {
		t.Errorf("messages without limit: %d items (next_cursor %v), want 20 and a next_cursor", len(page.Items), page.NextCursor)
	}
	if page := decode[searchPage](t, henry.get(t, "/v1/search", params("q", word, "consistent_with", last.ConsistencyToken))); len(page.Items) != 20 || page.NextCursor == nil {
		t.Errorf("search without limit: %d items (next_cursor %v), want 20 and a next_cursor", len(page.Items), page.NextCursor)
	}

	// Messages, newest first. After the third page, five more are posted (and waited for): newer than the
	// cursor, they must not push the older ones onto later pages again.
	var newer []string
	newest := last
	msgPages, msgCursors := walkAround(t, henry, "/v1/rooms/"+room.ID+"/messages", params("limit", fmt.Sprint(limit)), last.ConsistencyToken,
		func(p messagePage) ([]message, *string) { return p.Items, p.NextCursor },
		func(pages int) string {
			if pages != 3 {
				return ""
			}
			for i := range 5 {
				newest = henry.post(t, room.ID, fmt.Sprintf("late message %d about the %s", i, word))
				newer = append(newer, newest.MessageID)
			}
			return newest.ConsistencyToken
		})
	var all []message
	for _, p := range msgPages {
		all = append(all, p...)
	}
	checkPages(t, "messages", len(msgPages), pageSizes(msgPages), total, limit)
	checkOnce(t, "messages", ids(all, func(m message) string { return m.ID }), posted)
	for i := 1; i < len(all); i++ {
		if all[i].PostedAt.After(all[i-1].PostedAt) {
			t.Errorf("messages: item %d (%s, posted_at %s) is newer than item %d (%s, %s): not newest first",
				i, all[i].ID, all[i].PostedAt, i-1, all[i-1].ID, all[i-1].PostedAt)
		}
	}

	latest := decode[messagePage](t, henry.get(t, "/v1/rooms/"+room.ID+"/messages", params("limit", "5")))
	checkOnce(t, "the first 5 messages after the walk", ids(latest.Items, func(m message) string { return m.ID }), newer)

	// Search, in both forms: filtered on the room and over all the caller's rooms.
	for _, filter := range []string{room.ID, ""} {
		hitPages, _ := walk(t, henry, "/v1/search", params("q", word, "room_id", filter, "limit", fmt.Sprint(limit)), newest.ConsistencyToken,
			func(p searchPage) ([]hit, *string) { return p.Items, p.NextCursor })
		var hits []hit
		for _, p := range hitPages {
			hits = append(hits, p...)
		}
		what := fmt.Sprintf("search %s (room_id %q)", word, filter)
		checkPages(t, what, len(hitPages), pageSizes(hitPages), total+len(newer), limit)
		checkOnce(t, what, ids(hits, func(h hit) string { return h.MessageID }), append(slices.Clone(posted), newer...))
	}

	// Rooms: six more, each waited for with its own token (rooms are separate aggregates), then the list.
	roomIDs := []string{room.ID}
	for i := range 6 {
		r := henry.createRoom(t, fmt.Sprintf("Side room %d %s", i, x))
		henry.room(t, r.ID, r.ConsistencyToken)
		roomIDs = append(roomIDs, r.ID)
	}
	roomPages, _ := walk(t, henry, "/v1/rooms", params("limit", "2"), "",
		func(p roomList) ([]roomItem, *string) { return p.Items, p.NextCursor })
	var rooms []roomItem
	for _, p := range roomPages {
		rooms = append(rooms, p...)
	}
	checkPages(t, "rooms", len(roomPages), pageSizes(roomPages), len(roomIDs), 2)
	checkOnce(t, "rooms", ids(rooms, func(r roomItem) string { return r.ID }), roomIDs)

	// Cursors: the first one, reused on its own room, gives the second page again; on another room, or with one
	// character changed, it is refused.
	cursor := msgCursors[0]
	again := decode[messagePage](t, henry.get(t, "/v1/rooms/"+room.ID+"/messages", params("limit", fmt.Sprint(limit), "cursor", cursor)))
	if got, want := ids(again.Items, func(m message) string { return m.ID }), ids(msgPages[1], func(m message) string { return m.ID }); !slices.Equal(got, want) {
		t.Errorf("the first cursor reused gives %v, want the second page %v", got, want)
	}
	other := roomIDs[1]
	a := henry.get(t, "/v1/rooms/"+other+"/messages", params("limit", fmt.Sprint(limit), "cursor", cursor))
	if a.Code != http.StatusBadRequest {
		t.Errorf("a cursor of room %s used on room %s = %d %s, want 400", room.ID, other, a.Code, a.Body)
	}
	for _, bad := range tampered(cursor) {
		a := henry.get(t, "/v1/rooms/"+room.ID+"/messages", params("limit", fmt.Sprint(limit), "cursor", bad))
		if a.Code != http.StatusBadRequest {
			t.Errorf("cursor %q changed to %q = %d %s, want 400", cursor, bad, a.Code, a.Body)
		}
	}
	_, hitCursors := walk(t, henry, "/v1/search", params("q", word, "room_id", room.ID, "limit", fmt.Sprint(limit)), "",
		func(p searchPage) ([]hit, *string) { return p.Items, p.NextCursor })
	a = henry.get(t, "/v1/search", params("q", word, "room_id", other, "limit", fmt.Sprint(limit), "cursor", hitCursors[0]))
	if a.Code != http.StatusBadRequest {
		t.Errorf("a search cursor of room %s used on room %s = %d %s, want 400", room.ID, other, a.Code, a.Body)
	}
	for _, bad := range tampered(hitCursors[0]) {
		a := henry.get(t, "/v1/search", params("q", word, "room_id", room.ID, "limit", fmt.Sprint(limit), "cursor", bad))
		if a.Code != http.StatusBadRequest {
			t.Errorf("search cursor %q changed to %q = %d %s, want 400", hitCursors[0], bad, a.Code, a.Body)
		}
	}
	roomCursor := roomPages0Cursor(t, henry)
	for _, bad := range tampered(roomCursor) {
		a := henry.get(t, "/v1/rooms", params("limit", "2", "cursor", bad))
		if a.Code != http.StatusBadRequest {
			t.Errorf("rooms cursor %q changed to %q = %d %s, want 400", roomCursor, bad, a.Code, a.Body)
		}
	}
}

// walk follows next_cursor from the first page of path with q (and token as consistent_with) until there is
// none, and returns the pages' items and the cursors it followed; it fails the test after 100 pages.
func walk[P, I any](t *testing.T, u *user, path string, q url.Values, token string, split func(P) ([]I, *string)) ([][]I, []string) {
	t.Helper()
	return walkAround(t, u, path, q, token, split, nil)
}

// walkAround is walk with between called after each page but the last with the number of pages read; when it
// returns a token, the next pages pass that one as consistent_with.
func walkAround[P, I any](t *testing.T, u *user, path string, q url.Values, token string, split func(P) ([]I, *string),
	between func(pages int) string) ([][]I, []string) {
	t.Helper()
	var pages [][]I
	var cursors []string
	cursor := ""
	for {
		if len(pages) == 100 {
			t.Fatalf("GET %s: still a next_cursor after 100 pages", path)
		}
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		if token != "" {
			v.Set("consistent_with", token)
		}
		a := u.get(t, path, v)
		fresh(t, a)
		items, next := split(decode[P](t, a))
		pages = append(pages, items)
		if next == nil {
			return pages, cursors
		}
		if *next == "" {
			t.Fatalf("GET %s: next_cursor is the empty string; want a cursor, or null/absent at the end", path)
		}
		cursor = *next
		cursors = append(cursors, cursor)
		if between != nil {
			if tok := between(len(pages)); tok != "" {
				token = tok
			}
		}
	}
}

// roomPages0Cursor returns the next_cursor of u's first page of rooms, two at a time.
func roomPages0Cursor(t *testing.T, u *user) string {
	t.Helper()
	page := decode[roomList](t, u.get(t, "/v1/rooms", params("limit", "2")))
	if page.NextCursor == nil {
		t.Fatalf("the first page of 2 rooms has no next_cursor")
	}
	return *page.NextCursor
}

func pageSizes[I any](pages [][]I) []int {
	sizes := make([]int, len(pages))
	for i, p := range pages {
		sizes[i] = len(p)
	}
	return sizes
}

// checkPages fails the test unless total items came in ceil(total/limit) pages, all full but the last.
func checkPages(t *testing.T, what string, n int, sizes []int, total, limit int) {
	t.Helper()
	if want := (total + limit - 1) / limit; n != want {
		t.Errorf("%s: %d pages of sizes %v, want %d", what, n, sizes, want)
	}
	for i, s := range sizes {
		if s > limit || (i < len(sizes)-1 && s != limit) {
			t.Errorf("%s: page sizes %v, want every page but the last holding exactly %d", what, sizes, limit)
			return
		}
	}
}

// checkOnce fails the test unless got holds every id of want exactly once, and nothing else.
func checkOnce(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s: %s came %d times", what, id, n)
		}
	}
	for _, id := range want {
		if seen[id] == 0 {
			t.Errorf("%s: %s never came", what, id)
		}
		delete(seen, id)
	}
	for id := range seen {
		t.Errorf("%s: %s came, and is not one of the %d expected", what, id, len(want))
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d items, want %d", what, len(got), len(want))
	}
}

func ids[I any](items []I, id func(I) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

// tampered returns cursor changed by one character: in the middle (the signed payload), at the start, and
// with one character more.
func tampered(cursor string) []string {
	swap := func(i int) string {
		c := byte('A')
		if cursor[i] == 'A' {
			c = 'B'
		}
		return cursor[:i] + string(c) + cursor[i+1:]
	}
	return []string{swap(len(cursor) / 2), swap(0), cursor + "A"}
}
