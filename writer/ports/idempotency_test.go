package ports_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIdempotencyUnderConcurrency sends n tries of one command with one Idempotency-Key at the same moment: every
// try answers the first response, and one set of events is appended, whatever the command (some would fail in
// the domain if decided twice: already a member, already registered, message already deleted).
func TestIdempotencyUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 8, 32} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, generous()).on(t)
			room := f.room()
			msg := f.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"to delete"}`).body["message_id"].(string)
			commands := []struct {
				name, method, path, sub, body string
				aggregate                     string
			}{
				{"add member", "POST", "/v1/rooms/" + room + "/members", "alice", memberJSON("bob", "member"), room},
				{"register", "POST", "/v1/accounts", "carol", `{"name":"Carol"}`, "carol"},
				{"delete message", "DELETE", "/v1/rooms/" + room + "/messages/" + msg, "alice", "", room},
				{"post", "POST", "/v1/rooms/" + room + "/messages", "alice", `{"text":"once"}`, room},
			}
			// Each append takes a while, so the tries all pass the lookup of the key before the first one is recorded.
			f.store.mu.Lock()
			f.store.appendDelay = 20 * time.Millisecond
			f.store.mu.Unlock()
			for _, c := range commands {
				before := len(f.journal(c.aggregate))
				answers := make([]response, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						answers[i] = f.do(c.method, c.path, c.sub, c.body, "Idempotency-Key", "k-"+strings.ReplaceAll(c.name, " ", "-"))
					})
				}
				wg.Wait()
				for i, a := range answers {
					if a.status/100 != 2 || a.raw != answers[0].raw {
						t.Errorf("%s, try %d of %d: %d %s; want the first answer %d %s", c.name, i, n, a.status, a.raw,
							answers[0].status, answers[0].raw)
					}
				}
				if got := len(f.journal(c.aggregate)) - before; got != 1 {
					t.Errorf("%s: %d tries appended %d events, want 1", c.name, n, got)
				}
			}
		})
	}
}

// TestFailedTryDoesNotUseTheKeyUp: a try refused at the edge or by the domain records nothing under its key, so
// the corrected request with the same key runs.
func TestFailedTryDoesNotUseTheKeyUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, generous())
	room := f.room()
	key := []string{"Idempotency-Key", "retry-me"}
	f.must(400, "POST", "/v1/rooms/"+room+"/rename", "alice", `{"name":""}`, key...)
	f.must(404, "POST", "/v1/rooms/"+room+"/rename", "bob", `{"name":"by bob"}`, key...)
	f.must(200, "POST", "/v1/rooms/"+room+"/rename", "alice", `{"name":"fixed"}`, key...)
	replayed := f.must(200, "POST", "/v1/rooms/"+room+"/rename", "alice", `{"name":"fixed"}`, key...)
	if replayed.header.Get("Idempotent-Replayed") != "true" {
		t.Error("the successful try was not recorded under the key")
	}
}
