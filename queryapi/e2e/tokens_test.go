package e2e

import (
	"encoding/json"
	"maps"
	"net/url"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/consistency"
)

// tokenKey is the key the writer and the query APIs of these tests sign and verify consistency tokens with:
// derived from the callers' JWT secret, as when CONSISTENCY_TOKEN_SECRET is not set.
func tokenKey(t *testing.T) *consistency.Key {
	t.Helper()
	k, err := consistency.DeriveKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// tokensRevealNothing: eve passes tokens for a room she cannot see (ann's, from a command; ann's for a write
// that never happens; one signed with another key; an unsigned one of the first format) to the query API that
// waits fastTimeout: every query answers as it does without a token, at once, never marked stale. ann's own
// token for the write that never happens still waits and is marked stale.
func tokensRevealNothing(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	ann, eve := newUser(t, sys, "ann"), newUser(t, sys, "eve")
	ann.register(t, "Ann")
	eve.register(t, "Eve")
	room := ann.createRoom(t, "Secret "+x).ID
	post := ann.post(t, room, "secret t"+x)
	ann.search(t, "t"+x, room, post.ConsistencyToken) // both read models applied the room

	never := consistency.Token{AggregateID: room, Seq: 1 << 40}
	other, err := consistency.NewKey([]byte("another-deployment-token-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{
		"ann's from a command":             post.ConsistencyToken,
		"ann's for a write never made":     tokenKey(t).Sign(ann.id, never),
		"eve's signed with another key":    other.Sign(eve.id, never),
		"unsigned, of the first format":    never.String(),
		"ann's for the room's first write": tokenKey(t).Sign(ann.id, consistency.Token{AggregateID: room, Seq: 1}),
	}
	queries := []struct {
		path string
		q    url.Values
	}{
		{"/v1/rooms/" + room, nil},
		{"/v1/rooms/" + room + "/messages", nil},
		{"/v1/search", params("q", "t"+x, "room_id", room)},
		{"/v1/search", params("q", "t"+x)},
		{"/v1/rooms", nil},
	}
	for _, qu := range queries {
		plain := queryAs(t, sys.fastQuery, eve.token, qu.path, qu.q)
		for name, tok := range tokens {
			q := maps.Clone(qu.q)
			if q == nil {
				q = url.Values{}
			}
			q.Set("consistent_with", tok)
			a := queryAs(t, sys.fastQuery, eve.token, qu.path, q)
			if a.Code != plain.Code || !sameBody(t, a, plain) {
				t.Errorf("eve with %s token: GET %s = %d %s, without a token %d %s", name, qu.path, a.Code, a.Body,
					plain.Code, plain.Body)
			}
			if a.stale() || a.Took >= fastTimeout/2 {
				t.Errorf("eve with %s token: GET %s answered stale=%v after %s, want at once as without a token",
					name, qu.path, a.stale(), a.Took)
			}
		}
	}

	// ann's own tokens still count: the applied one answers fresh, the one never made waits and is stale.
	if a := queryAs(t, sys.fastQuery, ann.token, "/v1/rooms/"+room, params("consistent_with", post.ConsistencyToken)); a.stale() || a.Code != 200 {
		t.Errorf("ann's applied token: %d stale=%v, want 200 fresh", a.Code, a.stale())
	}
	a := queryAs(t, sys.fastQuery, ann.token, "/v1/rooms/"+room, params("consistent_with", tokenKey(t).Sign(ann.id, never)))
	if !a.stale() || a.Took < fastTimeout*9/10 || a.Code != 200 {
		t.Errorf("ann's token of a write never made: %d stale=%v after %s, want 200 stale after about %s", a.Code,
			a.stale(), a.Took, fastTimeout)
	}
	// What is not a token at all stays a 400, for anyone.
	expect(t, queryAs(t, sys.fastQuery, eve.token, "/v1/rooms", params("consistent_with", "not-a-token")), 400)
}

// sameBody reports whether two answers carry the same JSON.
func sameBody(t *testing.T, a, b answer) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a.Body, &va); err != nil {
		t.Fatalf("GET %s: decode %s: %v", a.path, a.Body, err)
	}
	if err := json.Unmarshal(b.Body, &vb); err != nil {
		t.Fatalf("GET %s: decode %s: %v", b.path, b.Body, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}

// awaitApplied makes u, the caller whose command answered token, wait (bounded, failing the test when stale)
// until both read models applied that write. Tokens count only for the caller they were minted for, so a
// scenario where another caller reads the write waits this way first, then has the other caller query without
// a token.
func (u *user) awaitApplied(t *testing.T, token string) {
	t.Helper()
	a := u.get(t, "/v1/search", params("q", "awaitapplied", "consistent_with", token))
	fresh(t, a)
	expect(t, a, 200)
}
