package ports_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/internal/openapi"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
	"github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"
	"github.com/cqrses-aws/pipeline/queryapi/app"
	"github.com/cqrses-aws/pipeline/queryapi/cursor"
	"github.com/cqrses-aws/pipeline/queryapi/ports"
)

const secret = "ports-test-secret-0123456789"

// Ids shaped like the writer's.
const (
	r1 = "room-01J0000000000000000000000R"
	r2 = "room-01J0000000000000000000001R"
	r3 = "room-01J0000000000000000000002R"
	r9 = "room-01J0000000000000000000009R"
)

// msgID returns the id of message i.
func msgID(i int) string { return fmt.Sprintf("msg-01J00000000000000000000%03d", i) }

// fake answers from a fixed model: rooms r1..r3 of alice, r9 of nobody; n messages of r1, newest first.
type fake struct {
	messages  []app.Message
	lastOpts  app.Options
	stale     bool
	fail      error
	lastQuery string
}

func newFake(n int) *fake {
	f := &fake{}
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i := range n {
		f.messages = append(f.messages, app.Message{ID: msgID(i), RoomID: r1, SenderID: "alice",
			SenderName: "Alice", Text: "hello", PostedAt: at.Add(-time.Duration(i) * time.Minute)})
	}
	return f
}

func (f *fake) fresh() app.Fresh { return app.Fresh(!f.stale) }

// errBadText is what Postgres answers for text it cannot hold; the ports must not let such ids through.
var errBadText = errors.New(`ERROR: invalid byte sequence for encoding "UTF8": 0x00`)

func badText(id string) bool { return !utf8.ValidString(id) || strings.ContainsRune(id, 0) }

func (f *fake) Rooms(_ context.Context, o app.Options, after string, limit int) ([]app.RoomSummary, string, app.Fresh, error) {
	f.lastOpts = o
	if f.fail != nil {
		return nil, "", f.fresh(), f.fail
	}
	var out []app.RoomSummary
	for _, id := range []string{r1, r2, r3} {
		if id > after {
			out = append(out, app.RoomSummary{ID: id, Name: "room " + id, MemberCount: 2, Version: 3})
		}
	}
	if len(out) > limit {
		return out[:limit], out[limit-1].ID, f.fresh(), nil
	}
	return out, "", f.fresh(), nil
}

func (f *fake) Room(_ context.Context, o app.Options, id string) (app.Room, app.Fresh, error) {
	f.lastOpts = o
	if badText(id) {
		return app.Room{}, f.fresh(), errBadText
	}
	if id != r1 {
		return app.Room{}, f.fresh(), app.ErrNotFound
	}
	return app.Room{ID: r1, Name: "room r1", Version: 3, Members: []app.Member{{AccountID: "alice", Name: "Alice", Role: "admin"}}}, f.fresh(), nil
}

func (f *fake) Messages(_ context.Context, o app.Options, id string, after *app.MessageKey, limit int) (app.Page[app.Message], app.Fresh, error) {
	f.lastOpts = o
	if badText(id) {
		return app.Page[app.Message]{}, f.fresh(), errBadText
	}
	if id != r1 {
		return app.Page[app.Message]{}, f.fresh(), app.ErrNotFound
	}
	start := 0
	if after != nil {
		for i, m := range f.messages {
			if m.ID == after.ID {
				start = i + 1
			}
		}
	}
	page := app.Page[app.Message]{Items: f.messages[start:]}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = &app.MessageKey{PostedAt: last.PostedAt, ID: last.ID}
	}
	return page, f.fresh(), nil
}

func (f *fake) Account(_ context.Context, o app.Options, id string) (app.Account, app.Fresh, error) {
	f.lastOpts = o
	if badText(id) {
		return app.Account{}, f.fresh(), errBadText
	}
	if id != "alice" {
		return app.Account{}, f.fresh(), app.ErrNotFound
	}
	return app.Account{ID: "alice", Name: "Alice"}, f.fresh(), nil
}

func (f *fake) Search(_ context.Context, o app.Options, text, room string, _ *app.MessageKey, _ int) (app.Page[app.Hit], app.Fresh, error) {
	f.lastOpts, f.lastQuery = o, text
	if f.fail != nil {
		return app.Page[app.Hit]{}, f.fresh(), f.fail
	}
	hit := app.Hit{MessageID: msgID(0), RoomID: r1, RoomName: "room r1", SenderID: "alice", SenderName: "Alice",
		Text: "hello", Highlight: "<em>hello</em>", PostedAt: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	return app.Page[app.Hit]{Items: []app.Hit{hit}}, f.fresh(), nil
}

type server struct {
	engine *gin.Engine
	fake   *fake
	token  string
}

func newServer(t *testing.T, f *fake) *server {
	t.Helper()
	v, err := auth.NewVerifier(t.Context(), auth.Config{HS256Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cursor.New([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := metrics.NewHTTPMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	e := ginapp.New(log, m)
	ports.NewHTTPServer(f, codec, tokenKey(t), openapi.Document(), log).Register(e, auth.Middleware(v))
	return &server{engine: e, fake: f, token: authtest.MintHS256(t, secret, "alice", time.Hour)}
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

// get requests path as alice (or with the given Authorization), and checks the answer against the OpenAPI
// document.
func (s *server) get(t *testing.T, path string, authz ...string) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if len(authz) > 0 {
		if authz[0] != "" {
			req.Header.Set("Authorization", authz[0])
		}
	} else {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	a := answer{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if err := openapi.ValidateResponse(http.MethodGet, path, a.code, a.header.Get("Content-Type"), a.body); err != nil {
		t.Errorf("GET %s: answer %d not as documented: %v\n%s", path, a.code, err, a.body)
	}
	return a
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func (a answer) problem(t *testing.T, code int) problem.Problem {
	t.Helper()
	if a.code != code {
		t.Fatalf("code = %d, want %d: %s", a.code, code, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != problem.ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, problem.ContentType)
	}
	var p problem.Problem
	a.decode(t, &p)
	if p.Status != code || p.Title == "" || p.Detail == "" || p.Type == "" {
		t.Errorf("problem %+v lacks type, title, status or detail", p)
	}
	return p
}

func TestRoutesAreDocumented(t *testing.T) {
	t.Parallel()
	s := newServer(t, newFake(0))
	if err := openapi.CheckRoutes(openapi.ServiceQueryAPI, s.engine.Routes()); err != nil {
		t.Error(err)
	}
	a := s.get(t, "/openapi.json", "")
	if a.code != http.StatusOK || !json.Valid(a.body) {
		t.Errorf("/openapi.json = %d, valid JSON %v", a.code, json.Valid(a.body))
	}
}

func TestMessagesPagesWithSignedCursors(t *testing.T) {
	t.Parallel()
	s := newServer(t, newFake(7))
	var seen []string
	path := "/v1/rooms/" + r1 + "/messages?limit=3"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		a := s.get(t, path)
		if a.code != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, a.code, a.body)
		}
		a.decode(t, &page)
		for _, it := range page.Items {
			seen = append(seen, it.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cur := *page.NextCursor
		// The cursor of r1's listing is refused for another room and when altered.
		s.get(t, "/v1/rooms/"+r2+"/messages?cursor="+url.QueryEscape(cur)).problem(t, http.StatusBadRequest)
		s.get(t, "/v1/rooms/"+r1+"/messages?cursor="+url.QueryEscape(cur+"x")).problem(t, http.StatusBadRequest)
		path = "/v1/rooms/" + r1 + "/messages?limit=3&cursor=" + url.QueryEscape(cur)
	}
	want := make([]string, 7)
	for i := range want {
		want[i] = msgID(i)
	}
	if got := strings.Join(seen, ","); got != strings.Join(want, ",") {
		t.Errorf("walked %s, want every message once in order", got)
	}
}

func TestRoomsPage(t *testing.T) {
	t.Parallel()
	s := newServer(t, newFake(0))
	var page struct {
		Items      []struct{ ID string } `json:"items"`
		NextCursor *string               `json:"next_cursor"`
	}
	s.get(t, "/v1/rooms?limit=2").decode(t, &page)
	if len(page.Items) != 2 || page.NextCursor == nil {
		t.Fatalf("first page = %+v", page)
	}
	s.get(t, "/v1/rooms?limit=2&cursor="+url.QueryEscape(*page.NextCursor)).decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != r3 || page.NextCursor != nil {
		t.Errorf("second page = %+v, want r3 and no cursor", page)
	}
}

func TestBadInputIsA400NamingTheField(t *testing.T) {
	t.Parallel()
	s := newServer(t, newFake(3))
	for path, field := range map[string]string{
		"/v1/rooms?limit=0":                                   "limit",
		"/v1/rooms?limit=101":                                 "limit",
		"/v1/rooms?limit=abc":                                 "limit",
		"/v1/rooms?cursor=nope":                               "cursor",
		"/v1/rooms/" + r1 + "/messages?limit=-1":              "limit",
		"/v1/rooms/" + r1 + "?consistent_with=forged":         "consistent_with",
		"/v1/accounts/alice?consistent_with=c1.%25%25":        "consistent_with",
		"/v1/search":                                          "q",
		"/v1/search?q=%20%20":                                 "q",
		"/v1/search?q=" + strings.Repeat("x", 501):            "q",
		"/v1/search?q=hi&room_id=" + strings.Repeat("r", 201): "room_id",
	} {
		p := s.get(t, path).problem(t, http.StatusBadRequest)
		if len(p.Errors) == 0 || p.Errors[0].Field != field {
			t.Errorf("GET %s: errors %+v, want one naming %s", path, p.Errors, field)
		}
	}
}

func TestAuthorizationAndVisibility(t *testing.T) {
	t.Parallel()
	s := newServer(t, newFake(1))
	s.get(t, "/v1/rooms", "").problem(t, http.StatusUnauthorized)
	s.get(t, "/v1/rooms", "Bearer not-a-jwt").problem(t, http.StatusUnauthorized)
	expired := authtest.MintHS256(t, secret, "alice", -time.Minute)
	s.get(t, "/v1/rooms", "Bearer "+expired).problem(t, http.StatusUnauthorized)
	s.get(t, "/v1/rooms/"+r9).problem(t, http.StatusNotFound)
	s.get(t, "/v1/rooms/"+r9+"/messages").problem(t, http.StatusNotFound)
	s.get(t, "/v1/accounts/nobody").problem(t, http.StatusNotFound)
	// Ids that cannot be ids (invalid UTF-8, NUL, too long) are unknown, never sent to a read model.
	for _, id := range []string{"%FF", "%00", "%E3%81", r1 + "%00", strings.Repeat("r", 201)} {
		s.get(t, "/v1/rooms/"+id).problem(t, http.StatusNotFound)
		s.get(t, "/v1/rooms/"+id+"/messages").problem(t, http.StatusNotFound)
		s.get(t, "/v1/accounts/"+id).problem(t, http.StatusNotFound)
	}
	s.get(t, "/v1/rooms/"+r1)
	if s.fake.lastOpts.Caller != "alice" {
		t.Errorf("caller = %q, want the token's subject", s.fake.lastOpts.Caller)
	}
}

// tokenKey is the writer's key in these tests.
func tokenKey(t testing.TB) *consistency.Key {
	t.Helper()
	k, err := consistency.NewKey([]byte("queryapi-ports-test-token-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestConsistencyTokenReachesTheQueryAndStaleIsMarked(t *testing.T) {
	t.Parallel()
	f := newFake(1)
	s := newServer(t, f)
	tok := consistency.Token{AggregateID: r1, Seq: 42}
	signed := url.QueryEscape(tokenKey(t).Sign("alice", tok))
	a := s.get(t, "/v1/rooms/"+r1+"/messages?consistent_with="+signed)
	if got := f.lastOpts.ConsistentWith; got == nil || *got != tok {
		t.Errorf("ConsistentWith = %v, want %v", got, tok)
	}
	if a.header.Get(ports.StaleHeader) != "" {
		t.Errorf("fresh answer marked stale")
	}
	f.stale = true
	if a := s.get(t, "/v1/rooms/"+r1+"?consistent_with="+signed); a.header.Get(ports.StaleHeader) != "true" {
		t.Errorf("%s = %q on a stale answer, want true", ports.StaleHeader, a.header.Get(ports.StaleHeader))
	}
}

// TestTokensNotSignedForTheCallerAreNoTokens: another caller's token, a token signed with another key, an
// altered one and an unsigned one of the first format never reach the query, so it cannot wait for them; only
// what is not a token at all is a 400.
func TestTokensNotSignedForTheCallerAreNoTokens(t *testing.T) {
	t.Parallel()
	tok := consistency.Token{AggregateID: r1, Seq: 42}
	other, err := consistency.NewKey([]byte("another-deployment-token-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	bobs := tokenKey(t).Sign("bob", tok)
	for name, raw := range map[string]string{
		"another caller's":  bobs,
		"another key's":     other.Sign("alice", tok),
		"altered":           bobs[:len(bobs)-2] + "AA",
		"unsigned (c1)":     tok.String(),
		"unsigned far seqs": consistency.Token{AggregateID: r9, Seq: 1 << 40}.String(),
	} {
		f := newFake(1)
		s := newServer(t, f)
		a := s.get(t, "/v1/rooms/"+r1+"/messages?consistent_with="+url.QueryEscape(raw))
		if a.code != http.StatusOK || f.lastOpts.ConsistentWith != nil || a.header.Get(ports.StaleHeader) != "" {
			t.Errorf("%s: answered %d, ConsistentWith = %v, stale = %q; want 200 as without a token", name, a.code,
				f.lastOpts.ConsistentWith, a.header.Get(ports.StaleHeader))
		}
	}
	for _, raw := range []string{"garbage", "c2.", "c2.MTpyMQ.c2hvcnQ", "c1.!!!"} {
		s := newServer(t, newFake(1))
		s.get(t, "/v1/rooms/"+r1+"/messages?consistent_with="+url.QueryEscape(raw)).problem(t, http.StatusBadRequest)
	}
}

func TestSearchTextIsPassedAsText(t *testing.T) {
	t.Parallel()
	f := newFake(0)
	s := newServer(t, f)
	s.get(t, "/v1/search?q="+url.QueryEscape(`  room_id:* OR "x  `))
	if f.lastQuery != `room_id:* OR "x` {
		t.Errorf("query = %q, want the trimmed text as given", f.lastQuery)
	}
}

func TestReadModelDownIsA503WithRetryAfter(t *testing.T) {
	t.Parallel()
	f := newFake(0)
	f.fail = errors.Join(app.ErrUnavailable, errors.New("dial tcp: refused"))
	s := newServer(t, f)
	a := s.get(t, "/v1/rooms")
	p := a.problem(t, http.StatusServiceUnavailable)
	if a.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if strings.Contains(p.Detail, "dial") {
		t.Errorf("detail %q shows internal detail", p.Detail)
	}
	f.fail = errors.New("boom")
	if p := s.get(t, "/v1/search?q=x").problem(t, http.StatusInternalServerError); strings.Contains(p.Detail, "boom") {
		t.Errorf("detail %q shows internal detail", p.Detail)
	}
}
