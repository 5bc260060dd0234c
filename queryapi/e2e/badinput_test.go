package e2e

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
)

// badInput: what the query API refuses, and how: 400 for bad parameters, 404 for rooms unknown or someone
// else's, 401 without a valid token, always as problem details and never a 500 (queryAs checks those on every
// answer); and search text with query syntax in it is searched as text, never escaping the caller's rooms.
func badInput(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	ivan, judy := newUser(t, sys, "ivan"), newUser(t, sys, "judy")
	ivanReg, judyReg := ivan.register(t, "Ivan "+x), judy.register(t, "Judy "+x)
	mine, theirs := ivan.createRoom(t, "Ivan's "+x), judy.createRoom(t, "Judy's "+x)
	word := "quokka" + x
	own := ivan.post(t, mine.ID, "unbalanced quotes, text OR room_id in the "+word)
	foreign := judy.post(t, theirs.ID, `text room_id unbalanced * \ OR " foreign `+word)
	ivan.search(t, word, "", ivanReg.ConsistencyToken)
	judy.search(t, word, "", judyReg.ConsistencyToken)
	if hits := ivan.search(t, word, "", own.ConsistencyToken); len(hits.Items) != 1 || hits.Items[0].MessageID != own.MessageID {
		t.Fatalf("ivan's search %s = %+v, want his own message only", word, hits.Items)
	}
	if hits := judy.search(t, word, "", foreign.ConsistencyToken); len(hits.Items) != 1 || hits.Items[0].MessageID != foreign.MessageID {
		t.Fatalf("judy's search %s = %+v, want her own message only", word, hits.Items)
	}

	type listing struct {
		path string
		q    url.Values
	}
	lists := []listing{
		{"/v1/rooms", nil},
		{"/v1/rooms/" + mine.ID + "/messages", nil},
		{"/v1/search", params("q", word)},
	}
	// query sends GET l with l's parameters and kv (key, value pairs) as ivan.
	query := func(t *testing.T, l listing, kv ...string) answer {
		t.Helper()
		v := url.Values{}
		for k, vs := range l.q {
			v[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return ivan.get(t, l.path, v)
	}
	// badRequest fails the test unless a is a 400 whose problem names field (when not "").
	badRequest := func(t *testing.T, a answer, field string) {
		t.Helper()
		if a.Code != http.StatusBadRequest {
			t.Errorf("GET %s = %d %s, want 400", a.path, a.Code, a.Body)
		} else if field != "" && !strings.Contains(string(a.Body), field) {
			t.Errorf("GET %s = 400 %s: the problem does not name %s", a.path, a.Body, field)
		}
	}

	t.Run("limit", func(t *testing.T) {
		for _, l := range lists {
			for _, limit := range []string{"1", "100"} {
				expect(t, query(t, l, "limit", limit), http.StatusOK)
			}
			for _, limit := range []string{"0", "101", "abc", "-1", "1.5", "99999999999999999999"} {
				badRequest(t, query(t, l, "limit", limit), "limit")
			}
		}
	})
	t.Run("cursor", func(t *testing.T) {
		for _, l := range lists {
			for _, cursor := range []string{"garbage", "AAAA", "{}", "c1.AAAA", strings.Repeat("x", 2000)} {
				badRequest(t, query(t, l, "cursor", cursor), "cursor")
			}
		}
	})
	t.Run("consistent_with", func(t *testing.T) {
		for _, l := range append(lists, listing{"/v1/rooms/" + mine.ID, nil}, listing{"/v1/accounts/" + ivan.id, nil}) {
			badRequest(t, query(t, l, "consistent_with", "not-a-token"), "consistent_with")
		}
	})
	t.Run("q", func(t *testing.T) {
		badRequest(t, ivan.get(t, "/v1/search", nil), "")
		badRequest(t, ivan.get(t, "/v1/search", url.Values{"q": {""}}), "")
		// A very long q may be refused or searched; either way it is no server error (queryAs checks that).
		if a := ivan.get(t, "/v1/search", params("q", strings.Repeat("quokka ", 2000))); a.Code != http.StatusOK && a.Code != http.StatusBadRequest {
			t.Errorf("GET /v1/search with a 14,000-character q = %d %s, want 200 or 400", a.Code, a.Body)
		}
	})
	t.Run("not found", func(t *testing.T) {
		unknown := "room-01ARZ3NDEKTSV4RRFFQ69G5FAV"
		for _, path := range []string{"/v1/rooms/" + unknown, "/v1/rooms/" + unknown + "/messages"} {
			expect(t, ivan.get(t, path, nil), http.StatusNotFound)
		}
		for _, path := range []string{"/v1/rooms/not-a-room", "/v1/rooms/not-a-room/messages"} {
			if a := ivan.get(t, path, nil); a.Code != http.StatusNotFound && a.Code != http.StatusBadRequest {
				t.Errorf("GET %s = %d %s, want 404 (or 400)", path, a.Code, a.Body)
			}
		}
		expect(t, ivan.get(t, "/v1/accounts/acct-nobody-"+x, nil), http.StatusNotFound)
		// Ids no writer makes, some of which no database takes as text (invalid UTF-8, NUL): unknown or
		// invalid, never a server error.
		for _, id := range []string{"%FF", "%00", "%E3%81", unknown + "%00", strings.Repeat("r", 5000)} {
			for _, path := range []string{"/v1/rooms/" + id, "/v1/rooms/" + id + "/messages", "/v1/accounts/" + id} {
				if a := ivan.get(t, path, nil); a.Code != http.StatusNotFound && a.Code != http.StatusBadRequest {
					t.Errorf("GET %.80s = %d %s, want 404 (or 400)", path, a.Code, a.Body)
				}
			}
		}
	})
	t.Run("bytes", func(t *testing.T) {
		// Parameters that are not text are refused; a filter or text no message has finds nothing. Never a
		// server error.
		for _, c := range []struct {
			q      url.Values
			mayFit bool // 200 with no hit is as good as 400
		}{
			{url.Values{"q": {"\xff"}}, false},
			{url.Values{"q": {word}, "cursor": {"\xff"}}, false},
			{url.Values{"q": {"a\x00b"}}, true},
			{url.Values{"q": {word}, "room_id": {"\x00"}}, true},
			{url.Values{"q": {word}, "room_id": {"\xff"}}, true},
		} {
			a := ivan.get(t, "/v1/search", c.q)
			switch {
			case a.Code == http.StatusOK && c.mayFit:
				if page := decode[searchPage](t, a); len(page.Items) != 0 {
					t.Errorf("GET /v1/search?%s found %+v, want nothing", c.q.Encode(), page.Items)
				}
			case a.Code != http.StatusBadRequest:
				t.Errorf("GET /v1/search?%s = %d %s, want 400", c.q.Encode(), a.Code, a.Body)
			}
		}
		// A well-formed token of an aggregate no writer could name waits and answers stale, or is refused.
		for _, id := range []string{"\x00", "\xff", "room-\x00", strings.Repeat("a", 5000)} {
			token := "c1." + base64.RawURLEncoding.EncodeToString([]byte("1:"+id))
			a := queryAs(t, sys.fastQuery, ivan.token, "/v1/rooms", params("consistent_with", token))
			if a.Code != http.StatusBadRequest && !(a.Code == http.StatusOK && a.stale()) {
				t.Errorf("GET /v1/rooms?consistent_with=<token of %.20q> = %d (stale %v) %s, want 400 or a stale 200", id, a.Code, a.stale(), a.Body)
			}
		}
	})
	t.Run("someone else's room", func(t *testing.T) {
		// Judy's room exists (she reads it), yet to ivan it is as unknown as a room never created: 404, not 403.
		expect(t, judy.room(t, theirs.ID, foreign.ConsistencyToken), http.StatusOK)
		expect(t, ivan.get(t, "/v1/rooms/"+theirs.ID, nil), http.StatusNotFound)
		expect(t, ivan.get(t, "/v1/rooms/"+theirs.ID+"/messages", nil), http.StatusNotFound)
		if _, ok := findRoom(ivan.rooms(t, ""), theirs.ID); ok {
			t.Errorf("ivan's room list holds judy's room %s", theirs.ID)
		}
		if hits := ivan.search(t, word, theirs.ID, ""); len(hits.Items) != 0 {
			t.Errorf("ivan's search %s in judy's room = %+v, want no hit", word, hits.Items)
		}
	})
	t.Run("authentication", func(t *testing.T) {
		other := authtest.MintHS256(t, "another-secret-0123456789abcdef", ivan.id, time.Hour)
		expired := authtest.MintHS256(t, secret, ivan.id, -time.Hour)
		noExp := authtest.Sign(t, jwt.SigningMethodHS256, []byte(secret), "", jwt.MapClaims{"sub": ivan.id, "iat": time.Now().Unix()})
		none := authtest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", authtest.Standard(ivan.id, time.Hour))
		for _, auth := range []string{"", "Bearer", "Bearer garbage", "Bearer " + other, "Bearer " + expired, "Bearer " + noExp,
			"Bearer " + none, "Basic " + ivan.token, ivan.token} {
			for _, path := range []string{"/v1/rooms", "/v1/rooms/" + mine.ID, "/v1/rooms/" + mine.ID + "/messages",
				"/v1/search?q=" + word, "/v1/accounts/" + ivan.id} {
				a := queryWith(t, sys.Query, auth, path)
				if a.Code != http.StatusUnauthorized {
					t.Errorf("GET %s with Authorization %.30q… = %d %s, want 401", path, auth, a.Code, a.Body)
				}
			}
		}
		expect(t, queryWith(t, sys.Query, "Bearer "+ivan.token, "/v1/rooms/"+mine.ID), http.StatusOK)
	})
	t.Run("search syntax is text", func(t *testing.T) {
		for _, q := range []string{`text:* OR room_id:*`, `"unbalanced`, `*`, `\`, `\\`, `room_id:` + theirs.ID,
			`{"query":{"match_all":{}}}`, `unbalanced)`, `(unbalanced`, `unbalanced AND NOT quokka` + x, `/.*/`, `~`} {
			hits := ivan.search(t, q, "", own.ConsistencyToken)
			for _, h := range hits.Items {
				if h.RoomID != mine.ID {
					t.Errorf("ivan's search %q found %+v in a room he is not a member of", q, h)
				}
			}
			if q == `"unbalanced` {
				if _, ok := findHit(hits.Items, own.MessageID); !ok {
					t.Errorf("ivan's search %q = %+v, want his message with the word unbalanced", q, hits.Items)
				}
			}
		}
	})
}

// queryWith sends GET base+path with the Authorization header auth ("" for none), checking the answer like
// queryAs.
func queryWith(t *testing.T, base, auth, path string) answer {
	t.Helper()
	return check(t, sendAuth(t, http.MethodGet, base+path, auth, nil), path)
}
