package e2e

import (
	"html"
	"strings"
	"testing"
	"time"
)

// The query API's answers (DESIGN.md, HTTP contract).
type (
	roomList struct {
		Items      []roomItem `json:"items"`
		NextCursor *string    `json:"next_cursor"`
	}
	roomItem struct {
		ID            string     `json:"id"`
		Name          string     `json:"name"`
		MemberCount   int        `json:"member_count"`
		LastMessageAt *time.Time `json:"last_message_at"`
		Version       int64      `json:"version"`
	}
	roomDetails struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Version int64    `json:"version"`
		Members []member `json:"members"`
	}
	member struct {
		AccountID string `json:"account_id"`
		Name      string `json:"name"`
		Role      string `json:"role"`
	}
	messagePage struct {
		Items      []message `json:"items"`
		NextCursor *string   `json:"next_cursor"`
	}
	message struct {
		ID       string     `json:"id"`
		RoomID   string     `json:"room_id"`
		Sender   sender     `json:"sender"`
		Text     string     `json:"text"`
		PostedAt time.Time  `json:"posted_at"`
		EditedAt *time.Time `json:"edited_at"`
	}
	sender struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	searchPage struct {
		Items      []hit   `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	hit struct {
		MessageID string    `json:"message_id"`
		RoomID    string    `json:"room_id"`
		RoomName  string    `json:"room_name"`
		Sender    sender    `json:"sender"`
		Text      string    `json:"text"`
		Highlight string    `json:"highlight"`
		PostedAt  time.Time `json:"posted_at"`
	}
	accountView struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
)

// find returns the first of items whose key is id.
func find[T any](items []T, id string, key func(T) string) (T, bool) {
	for _, it := range items {
		if key(it) == id {
			return it, true
		}
	}
	var zero T
	return zero, false
}

// findRoom returns the room with id in items.
func findRoom(items []roomItem, id string) (roomItem, bool) {
	return find(items, id, func(r roomItem) string { return r.ID })
}

// findMessage returns the message with id in items.
func findMessage(items []message, id string) (message, bool) {
	return find(items, id, func(m message) string { return m.ID })
}

// findHit returns the hit for message id in items.
func findHit(items []hit, id string) (hit, bool) {
	return find(items, id, func(h hit) string { return h.MessageID })
}

// findMember returns the member with account id in members.
func findMember(members []member, id string) (member, bool) {
	return find(members, id, func(m member) string { return m.AccountID })
}

// emphasized returns what highlight marks with <em>…</em>, concatenated.
func emphasized(highlight string) string {
	var b strings.Builder
	rest := highlight
	for {
		_, after, ok := strings.Cut(rest, "<em>")
		if !ok {
			return b.String()
		}
		inner, tail, ok := strings.Cut(after, "</em>")
		if !ok {
			return b.String()
		}
		b.WriteString(inner)
		rest = tail
	}
}

// checkHighlight fails the test unless h's highlight marks term and is, without its marks and HTML-unescaped,
// a part of the text.
func checkHighlight(t *testing.T, h hit, term string) {
	t.Helper()
	if !strings.Contains(strings.ToLower(emphasized(h.Highlight)), strings.ToLower(term)) {
		t.Errorf("hit %s: highlight %q does not mark %q with <em>", h.MessageID, h.Highlight, term)
	}
	plain := html.UnescapeString(strings.NewReplacer("<em>", "", "</em>", "").Replace(h.Highlight))
	if !strings.Contains(h.Text, strings.TrimSpace(plain)) {
		t.Errorf("hit %s: highlight %q is not a fragment of the text %q", h.MessageID, h.Highlight, h.Text)
	}
}
