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
			for _, c := range commands {
				before := len(f.journal(c.aggregate))
				// The first append waits until every try has looked its key up and found nothing: they overlap.
				f.store.mu.Lock()
				f.store.lookedUp, f.store.beforeAppend = allArrived(t, n)
				f.store.mu.Unlock()
				answers := make([]response, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						answers[i] = f.do(c.method, c.path, c.sub, c.body, "Idempotency-Key", "k-"+strings.ReplaceAll(c.name, " ", "-"))
					})
				}
				wg.Wait()
				f.store.mu.Lock()
				f.store.lookedUp, f.store.beforeAppend = nil, nil
				f.store.mu.Unlock()
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

// allArrived returns a function to call as each of n parties arrives and one that waits, at most 10 s, until all
// of them have.
func allArrived(tb testing.TB, n int) (arrive, wait func()) {
	var (
		mu      sync.Mutex
		arrived int
		all     = make(chan struct{})
	)
	arrive = func() {
		mu.Lock()
		defer mu.Unlock()
		if arrived++; arrived == n {
			close(all)
		}
	}
	wait = func() {
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			tb.Errorf("only some of %d tries looked their key up within 10 s", n)
		}
	}
	return arrive, wait
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
