package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// TestMain deletes the writer binary that the process tests and benchmarks build.
func TestMain(m *testing.M) { servicetest.Main(m) }

// writers is several writer processes (this package, built once) on one journal: the tables and bucket of an
// eventstoretest fixture, removed when the test ends. Its methods are safe for concurrent use.
type writers struct {
	urls    []string
	journal *eventstoretest.DynamoDBFixture

	mu     sync.Mutex
	tokens map[string]string
}

// startWriters starts n writer processes on the tables of a new fixture, env added to (or overriding) their
// environment, and waits until each answers /readyz with 200; they stop when tb ends.
func startWriters(tb testing.TB, n int, env map[string]string) *writers {
	tb.Helper()
	journal := eventstoretest.NewDynamoDBFixture(tb, nil)
	base := map[string]string{
		"AUTH_HS256_SECRET": testSecret, "RATE_LIMIT_RPS": "100000", "RATE_LIMIT_BURST": "100000",
		"DYNAMODB_TABLE_PREFIX": strings.TrimSuffix(journal.Tables.Journal, "-journal"),
		"SNAPSHOT_BUCKET":       journal.Bucket, "DYNAMODB_CREATE_TABLES": "true",
	}
	maps.Copy(base, env)
	bin := servicetest.Binary(tb, ".")
	ws := &writers{journal: journal, tokens: map[string]string{}}
	for i := range n {
		p := servicetest.StartProcess(tb, bin, fmt.Sprintf("writer-%d", i+1), nil, base)
		ws.urls = append(ws.urls, "http://"+p.Addr(tb))
	}
	for i, u := range ws.urls {
		testkit.Eventually(tb, time.Minute, fmt.Sprintf("writer-%d answers /readyz with 200", i+1), func() bool {
			resp, _ := servicetest.Readiness(tb, u)
			return resp.Code == http.StatusOK
		})
	}
	return ws
}

// processClient sends the commands: keep-alive connections enough for 32 concurrent clients per writer.
var processClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// requestTimeout bounds each command of try, do and must.
const requestTimeout = time.Minute

// token returns an hour's token for account sub, minted once.
func (ws *writers) token(tb testing.TB, sub string) string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if t, ok := ws.tokens[sub]; ok {
		return t
	}
	t := authtest.MintHS256(tb, testSecret, sub, time.Hour)
	ws.tokens[sub] = t
	return t
}

// try sends a command as account sub to writer i (modulo the count) with a JSON body (none when "") and
// headers as name, value pairs, waiting up to requestTimeout; it returns a transport error instead of failing,
// so goroutines may call it.
func (ws *writers) try(tb testing.TB, i int, method, path, sub, body string, headers ...string) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	return ws.send(ctx, tb, i, method, path, sub, body, headers...)
}

// send is try until ctx ends.
func (ws *writers) send(ctx context.Context, tb testing.TB, i int, method, path, sub, body string, headers ...string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, ws.urls[i%len(ws.urls)]+path, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+ws.token(tb, sub))
	for j := 0; j+1 < len(headers); j += 2 {
		req.Header.Set(headers[j], headers[j+1])
	}
	resp, err := processClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("read %s %s: %w", method, path, err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body) // a problem or an empty body leaves body nil; raw keeps it
	return r, nil
}

// do is try for the test's goroutine: it fails the test on a transport error.
func (ws *writers) do(tb testing.TB, i int, method, path, sub, body string, headers ...string) reply {
	tb.Helper()
	r, err := ws.try(tb, i, method, path, sub, body, headers...)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// must is do that fails the test unless writer i answers want.
func (ws *writers) must(tb testing.TB, i, want int, method, path, sub, body string, headers ...string) reply {
	tb.Helper()
	r := ws.do(tb, i, method, path, sub, body, headers...)
	if r.status != want {
		tb.Fatalf("writer-%d: %s %s = %d %s, want %d", i%len(ws.urls)+1, method, path, r.status, r.raw, want)
	}
	return r
}

// events returns the aggregate's events as the journal holds them, read with a strongly consistent Query.
func (ws *writers) events(tb testing.TB, id string) []eventstore.Record {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	recs, err := ws.journal.Store.Load(ctx, id, 0)
	if err != nil {
		tb.Fatalf("load %s: %v", id, err)
	}
	return recs
}

// accountIDs returns the ids of an admin and n members, unique to tb.
func accountIDs(tb testing.TB, n int) (admin string, members []string) {
	tb.Helper()
	x := testkit.UniqueName(tb, "a")
	for i := range n {
		members = append(members, fmt.Sprintf("acct-%d-%s", i, x))
	}
	return "acct-admin-" + x, members
}

// crowdedRoom makes a room of an admin and n members (roomWithMembers) that every writer holds (warm); it returns
// the room, the members and the room's version.
func (ws *writers) crowdedRoom(tb testing.TB, n int) (room string, members []string, version int64) {
	tb.Helper()
	admin, members := accountIDs(tb, n)
	room = ws.roomWithMembers(tb, admin, members...)
	return room, members, ws.warm(tb, room, admin)
}

// roomWithMembers registers admin and members (register) and returns the room newRoom makes.
func (ws *writers) roomWithMembers(tb testing.TB, admin string, members ...string) string {
	tb.Helper()
	ws.register(tb, append([]string{admin}, members...)...)
	return ws.newRoom(tb, admin, members...)
}

// register registers the accounts subs, named as their ids, through the writers in turn.
func (ws *writers) register(tb testing.TB, subs ...string) {
	tb.Helper()
	for i, sub := range subs {
		ws.must(tb, i, http.StatusCreated, http.MethodPost, "/v1/accounts", sub, `{"name":"`+sub+`"}`)
	}
}

// newRoom has admin create a room through writer 0 and add the members through writer 1, 0, 1, …, and returns
// its id; the room is then at version 1+len(members), and with two writers writer 0 holds it before the last
// addition.
func (ws *writers) newRoom(tb testing.TB, admin string, members ...string) string {
	tb.Helper()
	room := ws.must(tb, 0, http.StatusCreated, http.MethodPost, "/v1/rooms", admin, `{"name":"room of `+admin+`"}`).body["id"].(string)
	for i, m := range members {
		ws.must(tb, i+1, http.StatusOK, http.MethodPost, "/v1/rooms/"+room+"/members", admin, `{"account_id":"`+m+`","role":"member"}`)
	}
	return room
}

// warm has sub post a message to room through each writer in turn, so that each holds the room as it is: a
// writer's copy that lacks a member added through the other answers that member 404 until the fix that
// confirms rejections against the journal, and tests that are not about that start warm. It returns the
// room's version after the posts.
func (ws *writers) warm(tb testing.TB, room, sub string) int64 {
	tb.Helper()
	var version float64
	for i := range ws.urls {
		version, _ = ws.must(tb, i, http.StatusCreated, http.MethodPost, "/v1/rooms/"+room+"/messages", sub, `{"text":"warm"}`).body["version"].(float64)
	}
	return int64(version)
}

// burst sends n copies of one request at once (released together), the i-th to writer i, and returns the
// replies in that order; it fails the test after all returned when one had a transport error.
func (ws *writers) burst(tb testing.TB, n int, method, path, sub, body string, headers ...string) []reply {
	tb.Helper()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		replies = make([]reply, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			replies[i], errs[i] = ws.try(tb, i, method, path, sub, body, headers...)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return replies
}
