package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// fakeWriter keeps the writer's rules that the loader must respect (members post, authors edit, authors or
// admins delete, admins add and rename, an account registers once, a member is added once) over the command
// routes, in memory.
type fakeWriter struct {
	t        *testing.T
	verifier *auth.Verifier
	// registered accounts answer 409 to a second registration.
	registered map[string]bool
	// failPost, when positive, makes that post (counted from 1) answer 400.
	failPost int

	mu    sync.Mutex
	rooms map[string]*fakeRoom
	posts int
	seq   int
}

type fakeRoom struct {
	version  int64
	admins   map[string]bool
	members  map[string]bool
	messages map[string]string // id -> author
}

func newFakeWriter(t *testing.T, registered ...string) *fakeWriter {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), auth.Config{HS256Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeWriter{t: t, verifier: v, registered: map[string]bool{}, rooms: map[string]*fakeRoom{}}
	for _, id := range registered {
		f.registered[id] = true
	}
	return f
}

func (f *fakeWriter) start() string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/v1/", f.command)
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return srv.URL
}

var (
	roomPath    = regexp.MustCompile(`^/v1/rooms/([^/]+)/(rename|members|messages)$`)
	messagePath = regexp.MustCompile(`^/v1/rooms/([^/]+)/messages/([^/]+)(/edit)?$`)
)

func (f *fakeWriter) command(w http.ResponseWriter, r *http.Request) {
	claims, err := f.verifier.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if err != nil {
		problem(w, http.StatusUnauthorized, err.Error())
		return
	}
	by := claims.Subject
	var body struct{ Name, Text, AccountID, Role string }
	if r.Method == http.MethodPost {
		body.AccountID = "-"
		if err := json.NewDecoder(r.Body).Decode(&struct {
			Name      *string `json:"name"`
			Text      *string `json:"text"`
			AccountID *string `json:"account_id"`
			Role      *string `json:"role"`
		}{&body.Name, &body.Text, &body.AccountID, &body.Role}); err != nil {
			problem(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.Method + " " + r.URL.Path
	switch m, mm := roomPath.FindStringSubmatch(r.URL.Path), messagePath.FindStringSubmatch(r.URL.Path); {
	case p == "POST /v1/accounts":
		if f.registered[by] {
			problem(w, http.StatusConflict, "it exists already")
			return
		}
		f.registered[by] = true
		reply(w, http.StatusCreated, Result{ID: by, Version: 1})
	case p == "POST /v1/accounts/me/rename":
		reply(w, http.StatusOK, Result{ID: by, Version: 2})
	case p == "POST /v1/rooms":
		f.seq++
		id := fmt.Sprintf("room-%d", f.seq)
		f.rooms[id] = &fakeRoom{version: 1, admins: map[string]bool{by: true}, members: map[string]bool{by: true}, messages: map[string]string{}}
		reply(w, http.StatusCreated, Result{ID: id, Version: 1})
	case m != nil && r.Method == http.MethodPost:
		room := f.rooms[m[1]]
		switch {
		case room == nil || !room.members[by]:
			problem(w, http.StatusNotFound, "no such room")
		case m[2] == "messages":
			f.posts++
			if f.posts == f.failPost {
				problem(w, http.StatusBadRequest, "the request has invalid fields: text")
				return
			}
			f.seq++
			id := fmt.Sprintf("msg-%d", f.seq)
			room.messages[id] = by
			f.ok(w, http.StatusCreated, m[1], room, id)
		case !room.admins[by]:
			problem(w, http.StatusForbidden, "admins only")
		case m[2] == "members" && room.members[body.AccountID]:
			problem(w, http.StatusConflict, "the account is a member already")
		case m[2] == "members" && !f.registered[body.AccountID]:
			problem(w, http.StatusNotFound, "no such account")
		case m[2] == "members":
			room.members[body.AccountID] = true
			room.admins[body.AccountID] = body.Role == "admin"
			f.ok(w, http.StatusOK, m[1], room, "")
		default: // rename
			f.ok(w, http.StatusOK, m[1], room, "")
		}
	case mm != nil:
		room := f.rooms[mm[1]]
		if room == nil || !room.members[by] {
			problem(w, http.StatusNotFound, "no such room")
			return
		}
		author, ok := room.messages[mm[2]]
		switch {
		case !ok:
			problem(w, http.StatusNotFound, "no such message")
		case mm[3] == "/edit" && r.Method == http.MethodPost && author == by:
			f.ok(w, http.StatusOK, mm[1], room, "")
		case mm[3] == "" && r.Method == http.MethodDelete && (author == by || room.admins[by]):
			delete(room.messages, mm[2])
			f.ok(w, http.StatusOK, mm[1], room, "")
		default:
			problem(w, http.StatusForbidden, "not the author")
		}
	default:
		problem(w, http.StatusNotFound, "no route")
	}
}

// ok answers a room command that appended one event.
func (f *fakeWriter) ok(w http.ResponseWriter, status int, id string, room *fakeRoom, msg string) {
	room.version++
	reply(w, status, Result{ID: id, Version: room.version, ConsistencyToken: fmt.Sprintf("c1.%s.%d", id, room.version), MessageID: msg})
}

func reply(w http.ResponseWriter, status int, res Result) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}

// expected returns the counts a run of p against a fresh writer where the accounts of existing are registered
// already should report.
func expected(p Plan, existing int) Counts {
	c := Counts{AccountsRegistered: len(p.Accounts) - existing, AccountsExisting: existing, RoomsCreated: len(p.Rooms),
		Messages: len(p.Messages)}
	for _, r := range p.Rooms {
		c.MembersAdded += len(r.Members)
		if r.Rename != "" {
			c.RoomRenames++
		}
	}
	for _, a := range p.Accounts {
		if a.Rename != "" {
			c.AccountRenames++
		}
	}
	for _, m := range p.Messages {
		if m.Edit != "" {
			c.Edits++
		}
		if m.DeletedBy != "" {
			c.Deletes++
		}
	}
	return c
}

func TestLoaderAppliesThePlanWithinTheRules(t *testing.T) {
	t.Parallel()
	f := newFakeWriter(t, "alice", "yuki")
	url := f.start()
	c, _ := newClient(url)
	p := Generate(5, 400)
	var progress bytes.Buffer
	l := &Loader{Client: c, Plan: p, Concurrency: 8, RunID: "t", Progress: &progress}
	rep, err := l.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	if want := expected(p, 2); rep.Counts != want {
		t.Errorf("counts %+v, want %+v", rep.Counts, want)
	}
	for i, id := range rep.RoomIDs {
		room := f.rooms[id]
		if room == nil {
			t.Fatalf("room %d: id %q unknown to the writer", i, id)
		}
		if want := fmt.Sprintf("c1.%s.%d", id, room.version); rep.RoomTokens[i] != want {
			t.Errorf("room %d: token %q, want the one of its last write %q", i, rep.RoomTokens[i], want)
		}
	}
	for _, want := range []string{"registering 12 accounts", "posting 400 messages", "messages: 400/400 (100%)"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress does not say %q:\n%s", want, progress.String())
		}
	}

	// Again: the accounts exist, the rooms are new.
	rep, err = (&Loader{Client: c, Plan: Generate(5, 0), Concurrency: 3, RunID: "t2"}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.AccountsExisting != len(p.Accounts) || rep.AccountsRegistered != 0 || rep.RoomsCreated != len(p.Rooms) {
		t.Errorf("second run: %+v; want every account existing and new rooms", rep.Counts)
	}
}

func TestLoaderStopsAtTheFirstError(t *testing.T) {
	t.Parallel()
	f := newFakeWriter(t)
	f.failPost = 50
	c, _ := newClient(f.start())
	rep, err := (&Loader{Client: c, Plan: Generate(1, 1000), Concurrency: 4, RunID: "t"}).Run(context.Background())
	if err == nil || !IsStatus(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "invalid fields: text") {
		t.Fatalf("err = %v, want the 400 with its problem", err)
	}
	if rep.Messages >= 1000 || rep.RoomRenames != 0 {
		t.Errorf("counts %+v: the run went on after the error", rep.Counts)
	}
}

func TestRunPrintsTheDemoTokenAndQueries(t *testing.T) {
	t.Parallel()
	url := newFakeWriter(t).start()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return map[string]string{"AUTH_HS256_SECRET": testSecret}[k] }
	args := []string{"-writer", url + "/", "-messages", "30", "-concurrency", "2", "-ttl", "1h", "-query", "http://127.0.0.1:18081"}
	if code := run(context.Background(), args, getenv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	checkSummary(t, out.String(), testSecret, "http://127.0.0.1:18081")
	if !strings.Contains(out.String(), "valid for 1h:") {
		t.Errorf("output does not say the token is valid for 1h:\n%s", out.String())
	}
}

// checkSummary checks that the output of a successful run ends with a token of the demo account signed with
// secret and the three example queries against query.
func checkSummary(t *testing.T, out, secret, query string) (roomID string) {
	t.Helper()
	token := regexp.MustCompile(`export TOKEN=(\S+)`).FindStringSubmatch(out)
	if token == nil {
		t.Fatalf("no token in the output:\n%s", out)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{HS256Secret: config.Secret(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if claims, err := v.Verify(token[1]); err != nil || claims.Subject != DemoAccount {
		t.Errorf("printed token: %+v, %v; want a valid token of %q", claims, err, DemoAccount)
	}
	room := regexp.MustCompile(`One of its rooms: general = (\S+)`).FindStringSubmatch(out)
	if room == nil {
		t.Fatalf("no room of the demo account in the output:\n%s", out)
	}
	for _, want := range []string{
		`curl -s -H "Authorization: Bearer $TOKEN" ` + query + "/v1/rooms\n",
		query + "/v1/rooms/" + room[1] + "/messages?",
		query + "/v1/search --data-urlencode 'q=会議'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not hold %q:\n%s", want, out)
		}
	}
	return room[1]
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad writer URL", []string{"-writer", "127.0.0.1:8080"}, "-writer must be an http(s) URL"},
		{"negative messages", []string{"-messages", "-1"}, "-messages must not be negative"},
		{"no workers", []string{"-concurrency", "0"}, "-concurrency must be positive"},
		{"bad ttl", []string{"-ttl", "0s"}, "-ttl must be positive"},
		{"unknown flag", []string{"-rooms", "3"}, "flag provided but not defined"},
		{"extra arguments", []string{"now"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, func(string) string { return "" }, &out, &errOut)
			if code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, and %q", code, out.String(), errOut.String(), tt.want)
			}
		})
	}
}

func TestRunSaysWhenTheWriterIsNotThere(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-writer", url}, func(string) string { return "" }, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "make run") {
		t.Errorf("exit %d, stderr %q; want 1 and how to start the writer", code, errOut.String())
	}
}
