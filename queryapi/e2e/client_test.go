package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
)

// user is one caller: an account id (the token's subject) and its token.
type user struct {
	sys   *system
	id    string
	token string
	// name is the account's name as last registered or renamed by the scenario.
	name string
	// sent counts the commands sent through exec: they go round robin over the writers, so every scenario's
	// membership changes, edits and retries cross instances, as behind a load balancer with no sticky routing.
	sent atomic.Uint64
}

// newUser returns a caller with a fresh account id (not registered yet) and an hour's token.
func newUser(t *testing.T, sys *system, label string) *user {
	t.Helper()
	id := "acct-" + label + "-" + randomHex(t, 6)
	return &user{sys: sys, id: id, token: authtest.MintHS256(t, secret, id, time.Hour)}
}

// randomHex returns n random bytes in hex: the suffix that keeps a scenario's names and words its own.
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// command is the writer's answer to a command.
type command struct {
	ID               string `json:"id"`
	Version          int64  `json:"version"`
	ConsistencyToken string `json:"consistency_token"`
	MessageID        string `json:"message_id"`
}

// nextWriter returns the base URL of the writer u's next command goes to: the writers in turn.
func (u *user) nextWriter() string {
	writers := u.sys.Writers
	return writers[(u.sent.Add(1)-1)%uint64(len(writers))]
}

// exec sends a command as u to the next writer (nextWriter) and returns its answer; it fails the test unless
// the writer answers want with a consistency token.
func (u *user) exec(t *testing.T, method, path string, body any, want int) command {
	t.Helper()
	return u.execAt(t, u.nextWriter(), method, path, body, want)
}

// execAt is exec on the writer at base, with headers as name, value pairs.
func (u *user) execAt(t *testing.T, base, method, path string, body any, want int, headers ...string) command {
	t.Helper()
	cmd := expectCommand(t, u.commandAt(t, base, method, path, body, headers...), want)
	tokenOwners.Store(cmd.ConsistencyToken, u)
	return cmd
}

// tokenOwners maps each consistency token the scenarios received to the user whose command it answered.
var tokenOwners sync.Map

// tokenFor returns what u passes as consistent_with to read the write token names. A token counts only for the
// caller it was signed for (another caller's is no token at all, revealing nothing), so when token is another
// user's, that user waits until both read models applied the write, and u reads without a token.
func (u *user) tokenFor(t *testing.T, token string) string {
	t.Helper()
	owner, ok := tokenOwners.Load(token)
	if token == "" || !ok || owner.(*user) == u {
		return token
	}
	owner.(*user).awaitApplied(t, token)
	return ""
}

// commandAt sends a command as u to the writer at base, with body as JSON (none when nil) and headers as name,
// value pairs, and returns the answer whatever its status.
func (u *user) commandAt(t *testing.T, base, method, path string, body any, headers ...string) answer {
	t.Helper()
	var payload io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		payload = bytes.NewReader(b)
	}
	return sendAuth(t, method, base+path, "Bearer "+u.token, payload, headers...)
}

// expectCommand fails the test unless the writer answered code with id, version and consistency token, and
// returns them.
func expectCommand(t *testing.T, a answer, code int) command {
	t.Helper()
	if a.Code != code {
		t.Fatalf("%s %s = %d %s, want %d", a.method, a.path, a.Code, a.Body, code)
	}
	var c command
	if err := json.Unmarshal(a.Body, &c); err != nil || c.ID == "" || c.ConsistencyToken == "" || c.Version < 1 {
		t.Fatalf("%s %s answered %s: want id, version and consistency_token (%v)", a.method, a.path, a.Body, err)
	}
	return c
}

func (u *user) register(t *testing.T, name string) command {
	t.Helper()
	u.name = name
	return u.exec(t, http.MethodPost, "/v1/accounts", map[string]string{"name": name}, http.StatusCreated)
}

func (u *user) rename(t *testing.T, name string) command {
	t.Helper()
	u.name = name
	return u.exec(t, http.MethodPost, "/v1/accounts/me/rename", map[string]string{"name": name}, http.StatusOK)
}

func (u *user) createRoom(t *testing.T, name string) command {
	t.Helper()
	return u.exec(t, http.MethodPost, "/v1/rooms", map[string]string{"name": name}, http.StatusCreated)
}

func (u *user) renameRoom(t *testing.T, room, name string) command {
	t.Helper()
	return u.exec(t, http.MethodPost, "/v1/rooms/"+room+"/rename", map[string]string{"name": name}, http.StatusOK)
}

func (u *user) addMember(t *testing.T, room string, who *user, role string) command {
	t.Helper()
	return u.exec(t, http.MethodPost, "/v1/rooms/"+room+"/members", map[string]string{"account_id": who.id, "role": role}, http.StatusOK)
}

func (u *user) removeMember(t *testing.T, room string, who *user) command {
	t.Helper()
	return u.exec(t, http.MethodDelete, "/v1/rooms/"+room+"/members/"+url.PathEscape(who.id), nil, http.StatusOK)
}

func (u *user) post(t *testing.T, room, text string) command {
	t.Helper()
	c := u.exec(t, http.MethodPost, "/v1/rooms/"+room+"/messages", map[string]string{"text": text}, http.StatusCreated)
	if c.MessageID == "" {
		t.Fatalf("post to %s answered no message_id", room)
	}
	return c
}

func (u *user) edit(t *testing.T, room, message, text string) command {
	t.Helper()
	return u.exec(t, http.MethodPost, "/v1/rooms/"+room+"/messages/"+message+"/edit", map[string]string{"text": text}, http.StatusOK)
}

func (u *user) deleteMessage(t *testing.T, room, message string) command {
	t.Helper()
	return u.exec(t, http.MethodDelete, "/v1/rooms/"+room+"/messages/"+message, nil, http.StatusOK)
}

func (u *user) deleteRoom(t *testing.T, room string) command {
	t.Helper()
	return u.exec(t, http.MethodDelete, "/v1/rooms/"+room, nil, http.StatusOK)
}

// answer is a query API answer, read in full, with how long it took.
type answer struct {
	method, path string
	Code         int
	Header       http.Header
	Body         []byte
	Took         time.Duration
}

// stale reports whether the answer says its read model had not caught up with the token.
func (a answer) stale() bool { return a.Header.Get("X-Read-Model-Stale") == "true" }

// send makes one request with a bearer token (none when token is "") and reads the answer.
func send(t *testing.T, method, target, token string, body io.Reader) answer {
	t.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	return sendAuth(t, method, target, auth, body)
}

// sendAuth makes one request with the Authorization header auth (none when "") and headers as name, value
// pairs, and reads the answer.
func sendAuth(t *testing.T, method, target, auth string, body io.Reader, headers ...string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, target, err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, target, err)
	}
	return answer{method: method, path: target, Code: resp.StatusCode, Header: resp.Header, Body: b, Took: time.Since(start)}
}

// params builds a query string from key, value pairs, skipping empty values.
func params(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// get queries the main query API as u.
func (u *user) get(t *testing.T, path string, q url.Values) answer {
	t.Helper()
	return queryAs(t, u.sys.Query, u.token, path, q)
}

// queryAs sends GET base+path?q with token and checks what every answer of the query API must be: never a
// 5xx, errors as problem details, and (when internal/openapi exists) valid by the published contract.
func queryAs(t *testing.T, base, token, path string, q url.Values) answer {
	t.Helper()
	target := base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return check(t, send(t, http.MethodGet, target, token, nil), path)
}

// check fails the test for a query API answer that no request may get: a 5xx, an error that is not problem
// details, or (when internal/openapi exists) one the published contract does not allow. It returns a, its path
// set to path.
func check(t *testing.T, a answer, path string) answer {
	t.Helper()
	a.path, _, _ = strings.Cut(path, "?")
	if a.Code >= 500 {
		t.Errorf("GET %s = %d %s: a server error", path, a.Code, a.Body)
	}
	if a.Code >= 400 {
		checkProblem(t, a)
	}
	validateContract(t, a)
	return a
}

// problemBody is an RFC 9457 problem details body.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// checkProblem fails the test unless a is application/problem+json with type, title, detail and its status.
func checkProblem(t *testing.T, a answer) {
	t.Helper()
	if mt, _, err := mime.ParseMediaType(a.Header.Get("Content-Type")); err != nil || mt != "application/problem+json" {
		t.Errorf("GET %s = %d with Content-Type %q, want application/problem+json", a.path, a.Code, a.Header.Get("Content-Type"))
	}
	var p problemBody
	if err := json.Unmarshal(a.Body, &p); err != nil {
		t.Errorf("GET %s = %d: problem body %q: %v", a.path, a.Code, a.Body, err)
		return
	}
	if p.Status != a.Code || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Errorf("GET %s = %d: problem %s lacks type, title, detail or status %d", a.path, a.Code, a.Body, a.Code)
	}
	for _, leak := range []string{"panic", "goroutine", ".go:", "pq:", "SQLSTATE", "opensearch", "stack"} {
		if strings.Contains(strings.ToLower(string(a.Body)), strings.ToLower(leak)) {
			t.Errorf("GET %s = %d: problem %s shows internal detail (%q)", a.path, a.Code, a.Body, leak)
		}
	}
}

// expect fails the test unless a has status code.
func expect(t *testing.T, a answer, code int) {
	t.Helper()
	if a.Code != code {
		t.Fatalf("GET %s = %d %s, want %d", a.path, a.Code, a.Body, code)
	}
}

// fresh fails the test unless a is a 2xx or 404 answer that met its consistency token (no X-Read-Model-Stale).
func fresh(t *testing.T, a answer) {
	t.Helper()
	if a.stale() {
		t.Fatalf("GET %s answered X-Read-Model-Stale: true after %s: the read model did not apply the write within %s",
			a.path, a.Took.Round(time.Millisecond), consistencyTimeout)
	}
}

// decode decodes a 200 answer into T; it fails the test for any other status or an undecodable body.
func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	expect(t, a, http.StatusOK)
	if mt, _, _ := mime.ParseMediaType(a.Header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("GET %s: Content-Type %q, want application/json", a.path, a.Header.Get("Content-Type"))
	}
	var v T
	if err := json.Unmarshal(a.Body, &v); err != nil {
		t.Fatalf("GET %s: decode %s: %v", a.path, a.Body, err)
	}
	return v
}

// Typed queries on the main query API, each passing token as consistent_with when it is not "" and checking
// that the answer met it.

func (u *user) rooms(t *testing.T, token string) []roomItem {
	t.Helper()
	token = u.tokenFor(t, token)
	var all []roomItem
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("GET /v1/rooms: more than 100 pages")
		}
		a := u.get(t, "/v1/rooms", params("limit", "100", "cursor", cursor, "consistent_with", token))
		fresh(t, a)
		page := decode[roomList](t, a)
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
}

func (u *user) room(t *testing.T, room, token string) answer {
	t.Helper()
	token = u.tokenFor(t, token)
	a := u.get(t, "/v1/rooms/"+room, params("consistent_with", token))
	fresh(t, a)
	return a
}

func (u *user) messages(t *testing.T, room, token string) answer {
	t.Helper()
	token = u.tokenFor(t, token)
	a := u.get(t, "/v1/rooms/"+room+"/messages", params("limit", "100", "consistent_with", token))
	fresh(t, a)
	return a
}

func (u *user) search(t *testing.T, q, room, token string) searchPage {
	t.Helper()
	token = u.tokenFor(t, token)
	a := u.get(t, "/v1/search", params("q", q, "room_id", room, "limit", "100", "consistent_with", token))
	fresh(t, a)
	return decode[searchPage](t, a)
}

func (u *user) account(t *testing.T, id, token string) answer {
	t.Helper()
	token = u.tokenFor(t, token)
	a := u.get(t, "/v1/accounts/"+url.PathEscape(id), params("consistent_with", token))
	fresh(t, a)
	return a
}
