package ports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
	"github.com/cqrses-aws/pipeline/writer/ports"
)

const secret = "ports-test-secret-0123456789"

// fixture is a writer over an in-memory journal, with a switch to make the store unavailable.
type fixture struct {
	t      testing.TB
	engine *gin.Engine
	store  *flakyStore
	clock  *fakeClock
}

// flakyStore is the memory store that can be told to fail as if DynamoDB were down.
type flakyStore struct {
	*eventstore.Memory
	mu   sync.Mutex
	down bool
	// lookedUp and beforeAppend, when set, run at each idempotency lookup and before each append.
	lookedUp, beforeAppend func()
}

// hooks returns the store's hooks, nil when unset.
func (s *flakyStore) hooks() (lookedUp, beforeAppend func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookedUp, s.beforeAppend
}

func (s *flakyStore) setDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

func (s *flakyStore) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return eventstore.ErrUnavailable
	}
	return nil
}

func (s *flakyStore) Append(ctx context.Context, req eventstore.AppendRequest) error {
	if err := s.err(); err != nil {
		return err
	}
	if _, before := s.hooks(); before != nil {
		before()
	}
	return s.Memory.Append(ctx, req)
}

func (s *flakyStore) Load(ctx context.Context, id string, after int64) ([]eventstore.Record, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Memory.Load(ctx, id, after)
}

func (s *flakyStore) LatestSnapshot(ctx context.Context, id string) (*eventstore.Snapshot, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Memory.LatestSnapshot(ctx, id)
}

func (s *flakyStore) Idempotency(ctx context.Context, key string) (*eventstore.IdempotencyRecord, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	if lookedUp, _ := s.hooks(); lookedUp != nil {
		lookedUp()
	}
	return s.Memory.Idempotency(ctx, key)
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func newFixture(t testing.TB, rate ratelimit.Config) *fixture {
	t.Helper()
	store := &flakyStore{Memory: eventstore.NewMemory()}
	clock := &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	rooms, err := adapters.NewEventRepository[*domain.Room, domain.RoomID](adapters.RoomKind, adapters.RepositoryConfig{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := adapters.NewEventRepository[*domain.Account, domain.AccountID](adapters.AccountKind, adapters.RepositoryConfig{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{HS256Secret: secret, Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	limiter, err := ratelimit.New(rate, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ports.NewHTTPServer(app.New(rooms, accounts, adapters.MessagesEventstoreReader{Store: store}, adapters.ULIDs{}),
		adapters.IdempotencyEventstoreLookup{Store: store}, log, ports.WithTokenKey(tokenKey(t))).
		Register(engine, auth.Middleware(verifier), ratelimit.Middleware(limiter, auth.AccountID))
	return &fixture{t: t, engine: engine, store: store, clock: clock}
}

// tokenKey signs the fixtures' consistency tokens.
func tokenKey(t testing.TB) *consistency.Key {
	t.Helper()
	k, err := consistency.NewKey([]byte("writer-ports-test-token-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func generous() ratelimit.Config { return ratelimit.Config{RPS: 1e6, Burst: 1e6, MaxKeys: 1000} }

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request as account sub (no token when sub is ""), with a JSON body unless contentType says else.
func (f *fixture) do(method, path, sub, body string, headers ...string) response {
	f.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if sub != "" {
		req.Header.Set("Authorization", "Bearer "+authtest.MintHS256(f.t, secret, sub, time.Hour))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.engine.ServeHTTP(rec, req)
	res := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &res.body)
	return res
}

// on returns the fixture reporting to tb, for subtests.
func (f *fixture) on(tb testing.TB) *fixture {
	g := *f
	g.t = tb
	return &g
}

// must sends a request that has to succeed with status want, and returns the answer.
func (f *fixture) must(want int, method, path, sub, body string, headers ...string) response {
	f.t.Helper()
	res := f.do(method, path, sub, body, headers...)
	if res.status != want {
		f.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.status, want, res.raw)
	}
	return res
}

// journal returns every event of aggregate id.
func (f *fixture) journal(id string) []eventstore.Record {
	f.t.Helper()
	recs, err := f.store.Memory.Load(context.Background(), id, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return recs
}

// room sets up alice (admin) and bob (registered, not a member) and a room; it returns the room id.
func (f *fixture) room() string {
	f.t.Helper()
	f.must(201, "POST", "/v1/accounts", "alice", `{"name":"Alice"}`)
	f.must(201, "POST", "/v1/accounts", "bob", `{"name":"Bob"}`)
	res := f.must(201, "POST", "/v1/rooms", "alice", `{"name":"random"}`)
	return res.body["id"].(string)
}

func TestCommandsFollowTheContract(t *testing.T) {
	t.Parallel()
	f := newFixture(t, generous())
	room := f.room()

	res := f.must(200, "POST", "/v1/rooms/"+room+"/members", "alice", `{"account_id":"bob","role":"member"}`)
	if res.body["version"] != float64(2) {
		t.Errorf("AddMember version = %v, want 2", res.body["version"])
	}
	tok, err := tokenKey(t).Verify("alice", res.body["consistency_token"].(string))
	if err != nil || tok.AggregateID != room || tok.Seq != 2 {
		t.Errorf("consistency token = %+v, %v; want %s at 2 signed for alice", tok, err, room)
	}
	if _, err := tokenKey(t).Verify("bob", res.body["consistency_token"].(string)); !errors.Is(err, consistency.ErrNotVouched) {
		t.Errorf("alice's consistency token verified for bob: %v", err)
	}
	if res.header.Get("ETag") != `"2"` {
		t.Errorf("ETag = %q, want \"2\"", res.header.Get("ETag"))
	}

	posted := f.must(201, "POST", "/v1/rooms/"+room+"/messages", "bob", `{"text":"明日の会議は10時からです"}`)
	msg, _ := posted.body["message_id"].(string)
	if !strings.HasPrefix(msg, "msg-") {
		t.Fatalf("message_id = %q", msg)
	}
	f.must(200, "POST", "/v1/rooms/"+room+"/messages/"+msg+"/edit", "bob", `{"text":"11時に変更"}`)
	f.must(200, "DELETE", "/v1/rooms/"+room+"/messages/"+msg, "alice", "")
	f.must(200, "POST", "/v1/rooms/"+room+"/rename", "alice", `{"name":"general"}`)
	f.must(200, "DELETE", "/v1/rooms/"+room+"/members/bob", "alice", "")
	f.must(200, "POST", "/v1/accounts/me/rename", "bob", `{"name":"Robert"}`)
	last := f.must(200, "DELETE", "/v1/rooms/"+room, "alice", "")
	if last.body["version"] != float64(8) {
		t.Errorf("DeleteRoom version = %v, want 8", last.body["version"])
	}

	var types []string
	for _, r := range f.journal(room) {
		types = append(types, r.Type)
	}
	want := "RoomCreated MemberAdded MessagePosted MessageEdited MessageDeleted RoomRenamed MemberRemoved RoomDeleted"
	if strings.Join(types, " ") != want {
		t.Errorf("journal = %v, want %s", types, want)
	}
}

// TestBadInputChangesNothing sends every class of bad input of the contract and checks the status, the problem
// body and that the journal did not move.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, generous())
	room := f.room()
	f.must(200, "POST", "/v1/rooms/"+room+"/members", "alice", `{"account_id":"bob","role":"member"}`)
	posted := f.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"hi"}`)
	msg := posted.body["message_id"].(string)
	f.must(201, "POST", "/v1/accounts", "carol", `{"name":"Carol"}`)
	before := len(f.journal(room))

	cases := []struct {
		name, method, path, sub, body string
		headers                       []string
		status                        int
		field                         string
	}{
		{"malformed JSON", "POST", "/v1/rooms/" + room + "/messages", "alice", `{"text":`, nil, 400, ""},
		{"not an object", "POST", "/v1/rooms/" + room + "/messages", "alice", `["hi"]`, nil, 400, ""},
		{"unknown field", "POST", "/v1/rooms/" + room + "/messages", "alice", `{"text":"a","x":1}`, nil, 400, "x"},
		{"missing field", "POST", "/v1/rooms/" + room + "/messages", "alice", `{}`, nil, 400, "text"},
		{"wrong type", "POST", "/v1/rooms/" + room + "/messages", "alice", `{"text":5}`, nil, 400, "text"},
		{"empty text", "POST", "/v1/rooms/" + room + "/messages", "alice", `{"text":""}`, nil, 400, "text"},
		{"text too long", "POST", "/v1/rooms/" + room + "/messages", "alice", `{"text":"` + strings.Repeat("あ", 10001) + `"}`, nil, 400, "text"},
		{"control character", "POST", "/v1/rooms/" + room + "/rename", "alice", `{"name":"a\u0007b"}`, nil, 400, "name"},
		{"name too long", "POST", "/v1/rooms/" + room + "/rename", "alice", `{"name":"` + strings.Repeat("n", 81) + `"}`, nil, 400, "name"},
		{"bad role", "POST", "/v1/rooms/" + room + "/members", "alice", `{"account_id":"carol","role":"owner"}`, nil, 400, "role"},
		{"bad If-Match", "POST", "/v1/rooms/" + room + "/rename", "alice", `{"name":"x"}`, []string{"If-Match", "abc"}, 400, "If-Match"},
		{"no token", "POST", "/v1/rooms/" + room + "/messages", "", `{"text":"a"}`, nil, 401, ""},
		{"bad token", "POST", "/v1/rooms/" + room + "/messages", "", `{"text":"a"}`, []string{"Authorization", "Bearer x.y.z"}, 401, ""},
		{"member renames", "POST", "/v1/rooms/" + room + "/rename", "bob", `{"name":"x"}`, nil, 403, ""},
		{"edit another's message", "POST", "/v1/rooms/" + room + "/messages/" + msg + "/edit", "bob", `{"text":"x"}`, nil, 403, ""},
		{"non-member posts", "POST", "/v1/rooms/" + room + "/messages", "carol", `{"text":"a"}`, nil, 404, ""},
		{"unknown room", "POST", "/v1/rooms/room-01JD5Z7Q0000000000000000AA/messages", "alice", `{"text":"a"}`, nil, 404, ""},
		{"malformed room id", "POST", "/v1/rooms/nope/messages", "alice", `{"text":"a"}`, nil, 404, ""},
		{"malformed message id", "DELETE", "/v1/rooms/" + room + "/messages/" + msg + "x", "alice", "", nil, 404, ""},
		{"invalid UTF-8 in the body", "POST", "/v1/rooms/" + room + "/messages", "alice", "{\"text\":\"a\xffb\"}", nil, 400, ""},
		{"unknown message", "DELETE", "/v1/rooms/" + room + "/messages/msg-01JD5Z7Q0000000000000000AA", "alice", "", nil, 404, ""},
		{"unregistered account added", "POST", "/v1/rooms/" + room + "/members", "alice", `{"account_id":"zed","role":"member"}`, nil, 404, ""},
		{"already a member", "POST", "/v1/rooms/" + room + "/members", "alice", `{"account_id":"bob","role":"member"}`, nil, 409, ""},
		{"last admin leaves", "DELETE", "/v1/rooms/" + room + "/members/alice", "alice", "", nil, 409, ""},
		{"registered twice", "POST", "/v1/accounts", "alice", `{"name":"Alice"}`, nil, 409, ""},
		{"stale If-Match", "POST", "/v1/rooms/" + room + "/rename", "alice", `{"name":"x"}`, []string{"If-Match", `"1"`}, 412, ""},
		{"body over 64 KiB", "POST", "/v1/rooms/" + room + "/messages", "alice", `{"text":"` + strings.Repeat("a", 70000) + `"}`, nil, 413, ""},
		{"not JSON", "POST", "/v1/rooms/" + room + "/messages", "alice", `text=hi`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, ""},
	}
	for _, tc := range cases {
		res := f.do(tc.method, tc.path, tc.sub, tc.body, tc.headers...)
		if res.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, res.status, tc.status, res.raw)
			continue
		}
		if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: Content-Type %q, want application/problem+json", tc.name, ct)
		}
		if res.body["status"] != float64(tc.status) || res.body["title"] == nil || res.body["detail"] == nil {
			t.Errorf("%s: problem body %s lacks status, title or detail", tc.name, res.raw)
		}
		if tc.field != "" && !strings.Contains(res.raw, `"field":"`+tc.field+`"`) {
			t.Errorf("%s: problem %s does not name field %q", tc.name, res.raw, tc.field)
		}
	}
	if after := len(f.journal(room)); after != before {
		t.Errorf("bad input moved the journal from %d to %d events", before, after)
	}
}

// TestAccountIDsCheckedAtTheEdge sends account ids in AddMember's body and RemoveMember's path: valid ones
// reach the command, invalid ones are refused before any store sees them (DynamoDB would answer a key over
// 2,048 bytes with an error), as 400 naming account_id in the body and as an unknown account (404) in the path.
func TestAccountIDsCheckedAtTheEdge(t *testing.T) {
	t.Parallel()
	f := newFixture(t, generous())
	room := f.room()
	const tooLong, badChar = "must be at most 128 characters", "must not contain spaces or non-printable characters"
	cases := []struct {
		name, id string
		reason   string // empty: the id is valid
	}{
		{"ASCII", "dave", ""},
		{"Cognito UUID", "3f1c2b7e-9a4d-4c1e-8f2a-6b5d4e3c2a10", ""},
		{"printable unicode", "アリス", ""},
		{"128 characters", strings.Repeat("あ", 128), ""},
		{"2,049 bytes", strings.Repeat("a", 2049), tooLong},
		{"129 characters", strings.Repeat("s", 129), tooLong},
		{"space", "bo b", badChar},
		{"control character", "bo\u0007b", badChar},
		{"zero-width space", "bo\u200bb", badChar},
		{"invalid UTF-8", "bo\xffb", "must be valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the cases share the room, and each valid one adds and removes its member.
			f := f.on(t)
			add := f.do("POST", "/v1/rooms/"+room+"/members", "alice", memberJSON(tc.id, "member"))
			remove := f.do("DELETE", "/v1/rooms/"+room+"/members/"+url.PathEscape(tc.id), "alice", "")
			for _, res := range []response{add, remove} {
				if res.status >= 500 {
					t.Fatalf("status %d, want no 5xx: %s", res.status, res.raw)
				}
				if len(tc.id) > 1000 && strings.Contains(res.raw, tc.id) {
					t.Errorf("the answer quotes the id: %.200s", res.raw)
				}
			}
			if tc.reason == "" {
				if add.status != 404 || remove.status != 404 {
					t.Fatalf("unregistered account: add %d, remove %d; want the command's 404 both", add.status, remove.status)
				}
				f.must(201, "POST", "/v1/accounts", tc.id, `{"name":"Member"}`)
				f.must(200, "POST", "/v1/rooms/"+room+"/members", "alice", memberJSON(tc.id, "member"))
				f.checkLastEvent(room, "MemberAdded", tc.id)
				f.must(200, "DELETE", "/v1/rooms/"+room+"/members/"+url.PathEscape(tc.id), "alice", "")
				f.checkLastEvent(room, "MemberRemoved", tc.id)
				return
			}
			// JSON cannot carry invalid UTF-8, so that body is refused whole; every other id is named.
			want := `"field":"account_id","reason":"` + tc.reason
			if !utf8.ValidString(tc.id) {
				want = `"detail":"the body is not valid UTF-8"`
			}
			if add.status != 400 || !strings.Contains(add.raw, want) {
				t.Errorf("body: status %d, %.300s; want 400 with %s", add.status, add.raw, want)
			}
			if remove.status != 404 || remove.body["detail"] != "no such room, message or account, or not visible to you" {
				t.Errorf("path: status %d, %.300s; want 404 for an unknown account", remove.status, remove.raw)
			}
		})
	}
	if n := len(f.journal(room)); n != 1+2*4 {
		t.Errorf("room journal has %d events, want 9: the invalid ids must have changed nothing", n)
	}
}

// memberJSON is AddMember's body for account and role; an account of invalid UTF-8 is written as is, since a
// JSON encoder would replace its bytes.
func memberJSON(account, role string) string {
	if !utf8.ValidString(account) {
		return `{"account_id":"` + account + `","role":"` + role + `"}`
	}
	b, _ := json.Marshal(map[string]string{"account_id": account, "role": role})
	return string(b)
}

// checkLastEvent fails the test unless the last event of room is of type typ about account.
func (f *fixture) checkLastEvent(room, typ, account string) {
	f.t.Helper()
	recs := f.journal(room)
	last := recs[len(recs)-1]
	var payload struct {
		AccountID string `json:"account_id"`
	}
	if err := json.Unmarshal(last.Payload, &payload); err != nil {
		f.t.Fatal(err)
	}
	if last.Type != typ || payload.AccountID != account {
		f.t.Errorf("last event %s about %q, want %s about %q", last.Type, payload.AccountID, typ, account)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, generous())
	room := f.room()
	key := []string{"Idempotency-Key", "post-1"}

	first := f.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"once"}`, key...)
	again := f.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"once"}`, key...)
	if first.raw != again.raw {
		t.Errorf("replayed response differs:\n%s\n%s", first.raw, again.raw)
	}
	if again.header.Get("Idempotent-Replayed") != "true" {
		t.Error("replay not marked Idempotent-Replayed")
	}
	if n := len(f.journal(room)); n != 2 {
		t.Errorf("journal has %d events, want 2 (the retry appended nothing)", n)
	}

	other := f.do("POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"something else"}`, key...)
	if other.status != 422 {
		t.Errorf("same key, other body: status %d, want 422: %s", other.status, other.raw)
	}
	// Keys belong to their caller: bob may use the same key for his own command.
	f.must(200, "POST", "/v1/accounts/me/rename", "bob", `{"name":"B"}`, key...)
	if n := len(f.journal(room)); n != 2 {
		t.Errorf("journal has %d events, want 2", n)
	}
}

func TestRateLimitPerAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ratelimit.Config{RPS: 1, Burst: 3, MaxKeys: 100})
	f.must(201, "POST", "/v1/accounts", "alice", `{"name":"Alice"}`)
	f.must(200, "POST", "/v1/accounts/me/rename", "alice", `{"name":"A2"}`)
	f.must(200, "POST", "/v1/accounts/me/rename", "alice", `{"name":"A3"}`)
	res := f.do("POST", "/v1/accounts/me/rename", "alice", `{"name":"A4"}`)
	if res.status != 429 || res.header.Get("Retry-After") == "" {
		t.Fatalf("fourth request: status %d, Retry-After %q; want 429 with Retry-After", res.status, res.header.Get("Retry-After"))
	}
	f.must(201, "POST", "/v1/accounts", "bob", `{"name":"Bob"}`)
	if n := len(f.journal("alice")); n != 3 {
		t.Errorf("alice's journal has %d events, want 3", n)
	}
}

func TestStoreDownAnswers503(t *testing.T) {
	t.Parallel()
	f := newFixture(t, generous())
	room := f.room()
	f.store.setDown(true)
	res := f.do("POST", "/v1/rooms/room-01JD5Z7Q0000000000000000AB/messages", "alice", `{"text":"a"}`)
	if res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Errorf("store down: status %d, Retry-After %q; want 503 with Retry-After", res.status, res.header.Get("Retry-After"))
	}
	if strings.Contains(res.raw, "unavailable:") || strings.Contains(res.raw, "room-") {
		t.Errorf("503 leaks internal detail: %s", res.raw)
	}
	f.store.setDown(false)
	f.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"back"}`)
}

// FuzzCommandBody throws arbitrary bodies at every command route: whatever comes in, the answer is never a 500,
// and every error is a problem document.
func FuzzCommandBody(f *testing.F) {
	for _, s := range []string{`{"name":"x"}`, `{"text":"hi"}`, `{"account_id":"bob","role":"admin"}`, `{`, `null`,
		`{"text":"\u0000"}`, `{"name":"` + strings.Repeat("é", 81) + `"}`, `[]`, `{"text":1e999}`, "\xff\xfe"} {
		f.Add(s, uint8(0))
	}
	fx := newFixture(f, generous())
	room := fx.room()
	fx.must(200, "POST", "/v1/rooms/"+room+"/members", "alice", `{"account_id":"bob","role":"member"}`)
	posted := fx.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"hi"}`)
	msg := posted.body["message_id"].(string)
	routes := []string{"/v1/accounts", "/v1/accounts/me/rename", "/v1/rooms", "/v1/rooms/" + room + "/rename",
		"/v1/rooms/" + room + "/members", "/v1/rooms/" + room + "/messages", "/v1/rooms/" + room + "/messages/" + msg + "/edit"}

	f.Fuzz(func(t *testing.T, body string, route uint8) {
		path := routes[int(route)%len(routes)]
		req := httptest.NewRequest("POST", path, bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+authtest.MintHS256(t, secret, "alice", time.Hour))
		rec := httptest.NewRecorder()
		fx.engine.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: status %d: %s", path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("POST %s %q: error without problem+json: %s", path, body, rec.Body.String())
		}
	})
}
