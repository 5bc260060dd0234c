package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// idempotentRequest is one command sent in a burst under one Idempotency-Key, and what it appends to.
type idempotentRequest struct {
	sub, method, path, body string
	// want is the command's success status.
	want int
	// aggregate is the id whose journal the command appends one event to; before is its version beforehand.
	aggregate string
	before    int
	// otherPath and otherBody make another request under the same key (422).
	otherPath, otherBody string
}

// idempotentCommands prepare, through the writers, what each command needs: a room that both writers hold in
// their hot caches, writer 0's copy stale, so that the burst's tries race both in and across processes.
var idempotentCommands = []struct {
	name    string
	prepare func(t *testing.T, ws *writers, x string) idempotentRequest
}{
	{"RegisterAccount", func(t *testing.T, ws *writers, x string) idempotentRequest {
		sub := "acct-reg-" + x
		return idempotentRequest{sub: sub, method: http.MethodPost, path: "/v1/accounts", body: `{"name":"Reg"}`,
			want: http.StatusCreated, aggregate: sub, otherPath: "/v1/accounts", otherBody: `{"name":"Other"}`}
	}},
	{"AddMember", func(t *testing.T, ws *writers, x string) idempotentRequest {
		admin, joiner := "acct-admin-"+x, "acct-joiner-"+x
		room := ws.roomWithMembers(t, admin, "acct-member-"+x)
		ws.must(t, 1, http.StatusCreated, http.MethodPost, "/v1/accounts", joiner, `{"name":"Joiner"}`)
		path := "/v1/rooms/" + room + "/members"
		return idempotentRequest{sub: admin, method: http.MethodPost, path: path, body: `{"account_id":"` + joiner + `","role":"member"}`,
			want: http.StatusOK, aggregate: room, before: 2, otherPath: path, otherBody: `{"account_id":"` + joiner + `","role":"admin"}`}
	}},
	{"DeleteMessage", func(t *testing.T, ws *writers, x string) idempotentRequest {
		admin := "acct-admin-" + x
		room := ws.roomWithMembers(t, admin, "acct-member-"+x)
		msgs := "/v1/rooms/" + room + "/messages/"
		first := ws.must(t, 0, http.StatusCreated, http.MethodPost, msgs, admin, `{"text":"one"}`).body["message_id"].(string)
		second := ws.must(t, 1, http.StatusCreated, http.MethodPost, msgs, admin, `{"text":"two"}`).body["message_id"].(string)
		return idempotentRequest{sub: admin, method: http.MethodDelete, path: msgs + first,
			want: http.StatusOK, aggregate: room, before: 4, otherPath: msgs + second}
	}},
	{"PostMessage", func(t *testing.T, ws *writers, x string) idempotentRequest {
		admin := "acct-admin-" + x
		room := ws.roomWithMembers(t, admin, "acct-member-"+x)
		path := "/v1/rooms/" + room + "/messages"
		return idempotentRequest{sub: admin, method: http.MethodPost, path: path, body: `{"text":"once"}`,
			want: http.StatusCreated, aggregate: room, before: 2, otherPath: path, otherBody: `{"text":"other"}`}
	}},
}

// TestIdempotentBurstAcrossWriters sends, for each command, 2, 8 and 32 copies of one request with one
// Idempotency-Key at once, spread over two writer processes on one journal: every copy answers the first
// success's status and body (all but one with Idempotent-Replayed: true), the journal holds exactly one more
// event, and the key with another request answers 422 on both writers and appends nothing.
func TestIdempotentBurstAcrossWriters(t *testing.T) {
	t.Parallel()
	ws := startWriters(t, 2, nil)
	for _, n := range []int{2, 8, 32} {
		for _, cmd := range idempotentCommands {
			t.Run(fmt.Sprintf("%s/%d", cmd.name, n), func(t *testing.T) {
				x := testkit.UniqueName(t, "k")
				req := cmd.prepare(t, ws, x)
				key := []string{"Idempotency-Key", "burst-" + x}
				replies := ws.burst(t, n, req.method, req.path, req.sub, req.body, key...)
				checkOneAnswer(t, replies, req.want)
				if got := len(ws.events(t, req.aggregate)); got != req.before+1 {
					t.Errorf("the journal of %s holds %d events after the burst, want %d", req.aggregate, got, req.before+1)
				}
				for i := range 2 {
					if r := ws.do(t, i, req.method, req.otherPath, req.sub, req.otherBody, key...); r.status != http.StatusUnprocessableEntity {
						t.Errorf("writer-%d: the key with another request = %d %s, want 422", i+1, r.status, r.raw)
					}
				}
				if got := len(ws.events(t, req.aggregate)); got != req.before+1 {
					t.Errorf("the journal of %s holds %d events after the 422s, want %d", req.aggregate, got, req.before+1)
				}
			})
		}
	}
}

// checkOneAnswer fails the test unless every reply has status want and the body of the first success, and
// all but that one say Idempotent-Replayed: true; a failure counts the replies by answer.
func checkOneAnswer(t *testing.T, replies []reply, want int) {
	t.Helper()
	var original *reply
	replayed := 0
	for i, r := range replies {
		if r.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		} else if r.status == want && original == nil {
			original = &replies[i]
		}
	}
	if original == nil || replayed != len(replies)-1 || slices.ContainsFunc(replies, func(r reply) bool {
		return r.status != want || r.raw != original.raw
	}) {
		t.Errorf("%d replies, %d of them Idempotent-Replayed: true; want every one %d with the first success's body, "+
			"all but one replayed; they answered:%s", len(replies), replayed, want, summary(replies))
	}
}

// summary counts replies by status and body, for failures.
func summary(replies []reply) string {
	counts := map[string]int{}
	for _, r := range replies {
		counts[fmt.Sprintf("%d %s", r.status, strings.TrimSpace(r.raw))]++
	}
	var b strings.Builder
	for _, answer := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, "\n  %d × %s", counts[answer], answer)
	}
	return b.String()
}

// TestRejectedKeyIsNotPoisoned: a key whose first request was rejected records nothing. A registration with an
// empty name (400) does not stop a valid one with the key on the other writer; a post by a non-member (404)
// does not stop the same post, same key and body, once the poster was added through the other writer.
func TestRejectedKeyIsNotPoisoned(t *testing.T) {
	t.Parallel()
	ws := startWriters(t, 2, nil)
	x := testkit.UniqueName(t, "k")
	sub, key := "acct-late-"+x, []string{"Idempotency-Key", "first-fails-" + x}
	if r := ws.do(t, 0, http.MethodPost, "/v1/accounts", sub, `{"name":""}`, key...); r.status != http.StatusBadRequest {
		t.Fatalf("register with an empty name = %d %s, want 400", r.status, r.raw)
	}
	first := ws.must(t, 1, http.StatusCreated, http.MethodPost, "/v1/accounts", sub, `{"name":"Late"}`, key...)
	again := ws.must(t, 0, http.StatusCreated, http.MethodPost, "/v1/accounts", sub, `{"name":"Late"}`, key...)
	if again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry = %s (replayed %q), want %s replayed", again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
	}

	admin := "acct-admin-" + x
	room := ws.roomWithMembers(t, admin)
	path, post := "/v1/rooms/"+room+"/messages", `{"text":"let me in"}`
	key = []string{"Idempotency-Key", "not-yet-" + x}
	ws.must(t, 1, http.StatusCreated, http.MethodPost, path, admin, `{"text":"warm"}`)
	if r := ws.do(t, 1, http.MethodPost, path, sub, post, key...); r.status != http.StatusNotFound {
		t.Fatalf("post by a non-member = %d %s, want 404", r.status, r.raw)
	}
	ws.must(t, 0, http.StatusOK, http.MethodPost, "/v1/rooms/"+room+"/members", admin, `{"account_id":"`+sub+`","role":"member"}`)
	ws.must(t, 1, http.StatusCreated, http.MethodPost, path, sub, post, key...)
	if got := len(ws.events(t, room)); got != 4 {
		t.Errorf("the room's journal holds %d events, want 4 (created, warm post, member added, post)", got)
	}
}

// TestContentionOnOneRoomAcrossWriters: 32 members post 10 messages each at once to one room, their requests
// alternating between two writer processes that both hold the room with every member. A 503 (with
// Retry-After) is allowed and counted; every 201 has a version of its own; the journal, with no gap, ends at the
// setup's version plus the 201s and holds every answered message exactly once. A 503 may have been appended
// (its answer lost to a timeout, as the writer documents), so each 503 allows one message more, never twice.
func TestContentionOnOneRoomAcrossWriters(t *testing.T) {
	t.Parallel()
	const clients, posts = 32, 10
	ws := startWriters(t, 2, nil)
	room, members, version := ws.crowdedRoom(t, clients)
	setup := int(version)

	start := time.Now()
	res := postConcurrently(t, ws, room, members, posts, 2)
	t.Logf("%d posts in %s: %d answered 201, %d answered 503", clients*posts, time.Since(start).Round(time.Millisecond), len(res.versions), res.contended)

	versions := map[int64]bool{}
	for _, v := range res.versions {
		if versions[v] || v <= int64(setup) {
			t.Errorf("a 201 answered version %d: repeated or within the setup's %d", v, setup)
		}
		versions[v] = true
	}
	recs := ws.events(t, room)
	if extra := len(recs) - setup - len(res.versions); extra < 0 || extra > res.contended {
		t.Errorf("the journal holds %d events, want %d (setup) + %d (201s), plus at most %d (503s)", len(recs), setup, len(res.versions), res.contended)
	}
	posted := map[string]int{}
	for i, rec := range recs {
		if rec.Seq != int64(i+1) {
			t.Fatalf("journal position %d holds seq %d: a gap or a duplicate", i+1, rec.Seq)
		}
		if rec.Seq > int64(setup) && rec.Type == domain.TypeMessagePosted {
			var p domain.MessagePosted
			if err := json.Unmarshal(rec.Payload, &p); err != nil {
				t.Fatalf("seq %d: %v", rec.Seq, err)
			}
			posted[string(p.MessageID)]++
		}
	}
	for _, id := range res.messages {
		if posted[id] != 1 {
			t.Errorf("answered message %s is %d times in the journal, want once", id, posted[id])
		}
	}
	for id, n := range posted {
		if n > 1 {
			t.Errorf("message %s is %d times in the journal", id, n)
		}
	}
}

// contention is what postConcurrently saw: the versions and message ids of the 201s, and the 503s.
type contention struct {
	versions  []int64
	messages  []string
	contended int
}

// postConcurrently has every member post n messages to room at once, the k-th post of member c through writer
// (c+k) mod spread; a 503 with Retry-After is counted, any other failure fails the test.
func postConcurrently(tb testing.TB, ws *writers, room string, members []string, n, spread int) contention {
	tb.Helper()
	var (
		mu  sync.Mutex
		res contention
		wg  sync.WaitGroup
	)
	for c, sub := range members {
		wg.Go(func() {
			for k := range n {
				r, err := ws.try(tb, (c+k)%spread, http.MethodPost, "/v1/rooms/"+room+"/messages", sub, fmt.Sprintf(`{"text":"post %d of %s"}`, k, sub))
				mu.Lock()
				switch {
				case err != nil:
					tb.Error(err)
				case r.status == http.StatusCreated:
					v, _ := r.body["version"].(float64)
					id, _ := r.body["message_id"].(string)
					res.versions, res.messages = append(res.versions, int64(v)), append(res.messages, id)
				case r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") != "":
					res.contended++
				default:
					tb.Errorf("post %d of %s = %d %s, want 201, or 503 with Retry-After", k, sub, r.status, r.raw)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return res
}
