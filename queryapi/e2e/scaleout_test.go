package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// scaleOut: commands on one room go to two writers that both hold it in their hot caches, each time to the one
// whose copy the other has moved past, as a load balancer with no sticky routing may do. A member added through
// writer 1 posts through writer 2 (201); that message is edited through writer 1 (200); If-Match with the room's
// true version, sent to the writer that has not seen the last change, passes (200), and a stale one sent to the
// writer whose copy still agrees with it fails (412); a retry with the same Idempotency-Key and body sent to the
// other writer answers the first response (same status and body, Idempotent-Replayed: true) and appends nothing;
// the key with another body answers 422 on both. The read side then holds each change once.
func scaleOut(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	w1, w2 := sys.Writers[0], sys.Writers[1]
	ann, bob := newUser(t, sys, "ann"), newUser(t, sys, "bob")
	ann.execAt(t, w1, http.MethodPost, "/v1/accounts", map[string]string{"name": "Ann " + x}, http.StatusCreated)
	bob.execAt(t, w2, http.MethodPost, "/v1/accounts", map[string]string{"name": "Bob " + x}, http.StatusCreated)
	room := ann.execAt(t, w1, http.MethodPost, "/v1/rooms", map[string]string{"name": "Scale " + x}, http.StatusCreated)
	rooms := "/v1/rooms/" + room.ID
	// Writer 2 now holds the room as it is before bob joins.
	ann.execAt(t, w2, http.MethodPost, rooms+"/messages", map[string]string{"text": "warm up " + x}, http.StatusCreated)

	ann.execAt(t, w1, http.MethodPost, rooms+"/members", map[string]string{"account_id": bob.id, "role": "member"}, http.StatusOK)
	posted := bob.execAt(t, w2, http.MethodPost, rooms+"/messages", map[string]string{"text": "hello from bob " + x}, http.StatusCreated)
	editedText := "hello again from bob " + x
	edited := bob.execAt(t, w1, http.MethodPost, rooms+"/messages/"+posted.MessageID+"/edit", map[string]string{"text": editedText}, http.StatusOK)

	// Writer 2 last saw the room at posted.Version; its true version is edited.Version.
	renamed := ann.execAt(t, w2, http.MethodPost, rooms+"/rename", map[string]string{"name": "Renamed " + x}, http.StatusOK,
		"If-Match", fmt.Sprintf(`"%d"`, edited.Version))
	// Writer 1 last saw the room at edited.Version, which is stale now.
	stale := ann.commandAt(t, w1, http.MethodPost, rooms+"/rename", map[string]string{"name": "Stale " + x},
		"If-Match", fmt.Sprintf(`"%d"`, edited.Version))
	expectCommandProblem(t, stale, http.StatusPreconditionFailed)

	key := []string{"Idempotency-Key", "scale-out-" + x}
	once := map[string]string{"text": "once " + x}
	first := ann.commandAt(t, w1, http.MethodPost, rooms+"/messages", once, key...)
	firstCmd := expectCommand(t, first, http.StatusCreated)
	if firstCmd.Version != renamed.Version+1 {
		t.Errorf("the post after the rename at version %d answered version %d: the 412 appended", renamed.Version, firstCmd.Version)
	}
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("the first post with key %s answered Idempotent-Replayed: %q", key[1], first.Header.Get("Idempotent-Replayed"))
	}
	retry := ann.commandAt(t, w2, http.MethodPost, rooms+"/messages", once, key...)
	if retry.Code != first.Code || !bytes.Equal(retry.Body, first.Body) || retry.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry on the other writer = %d %s (Idempotent-Replayed %q), want the first answer %d %s replayed",
			retry.Code, retry.Body, retry.Header.Get("Idempotent-Replayed"), first.Code, first.Body)
	}
	for _, w := range []string{w1, w2} {
		other := ann.commandAt(t, w, http.MethodPost, rooms+"/messages", map[string]string{"text": "twice " + x}, key...)
		expectCommandProblem(t, other, http.StatusUnprocessableEntity)
	}

	// Nothing was appended since the first post: the next command takes the version after it.
	next := ann.execAt(t, w2, http.MethodPost, rooms+"/messages", map[string]string{"text": "after " + x}, http.StatusCreated)
	if next.Version != firstCmd.Version+1 {
		t.Errorf("the post after the retry and the 422s answered version %d, want %d: something else was appended", next.Version, firstCmd.Version+1)
	}

	d := decode[roomDetails](t, ann.room(t, room.ID, next.ConsistencyToken))
	if d.Name != "Renamed "+x || d.Version != next.Version {
		t.Errorf("room details = name %q version %d, want %q at version %d", d.Name, d.Version, "Renamed "+x, next.Version)
	}
	if _, ok := findMember(d.Members, bob.id); !ok {
		t.Errorf("room members = %+v, want bob among them", d.Members)
	}
	page := decode[messagePage](t, ann.messages(t, room.ID, next.ConsistencyToken))
	if m, ok := findMessage(page.Items, posted.MessageID); !ok || m.Text != editedText || m.Sender.ID != bob.id {
		t.Errorf("bob's message = %+v (found %v), want %q by bob", m, ok, editedText)
	}
	onces := 0
	for _, m := range page.Items {
		if strings.HasPrefix(m.Text, "once ") || strings.HasPrefix(m.Text, "twice ") {
			onces++
		}
	}
	if onces != 1 || len(page.Items) != 4 {
		t.Errorf("the room holds %d messages, %d of them from the idempotent post: want 4 and 1", len(page.Items), onces)
	}
}

// expectCommandProblem fails the test unless the writer answered code with problem details.
func expectCommandProblem(t *testing.T, a answer, code int) {
	t.Helper()
	if a.Code != code {
		t.Errorf("%s %s = %d %s, want %d", a.method, a.path, a.Code, a.Body, code)
		return
	}
	checkProblem(t, a)
}
