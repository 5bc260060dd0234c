package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/views"
)

// The query_messages benchmark's read model and load: 200 rooms of 500 messages and 50 members each, over 1,000
// accounts (each a member of 10 rooms); 16 keep-alive clients ask for the newest 20 messages of a random room
// as a random member of it, 20,000 requests a side and round, three rounds alternating.
const (
	qmRooms          = 200
	qmMessagesInRoom = 500
	qmMembersInRoom  = 50
	qmAccounts       = 1000
	qmClients        = 16
	qmRequests       = 20_000
	qmWarmup         = 2_000
	qmRounds         = 3
	qmLimit          = 20
)

// BenchmarkRatioQueryMessages: requests/s of GET /v1/rooms/{room}/messages through the query API (NewMain in
// process: Gin, access log, metrics, JWT, rate limiter, app, the views reader, signed cursors) over a plain
// net/http handler doing the same token check, SQL, cursor and encoding/json (benchref_test.go), both on the
// same Postgres views. Higher is better; target ratio >= 0.8.
func BenchmarkRatioQueryMessages(b *testing.B) {
	benchkit.Expect(b, "query_messages")
	st := testkit.MustStack(b)
	fx := newMessagesFixture(b)
	subject := startBenchQueryAPI(b, fx.name)
	reference := startMessagesReference(b, st.Postgres.URL.Reveal(), fx.name, testSecret)
	fx.checkSameAnswers(b, subject, reference)
	for _, base := range []string{subject, reference} {
		if _, err := fx.drive(base, qmWarmup); err != nil {
			b.Fatalf("warm-up of %s: %v", base, err)
		}
	}
	for b.Loop() {
		r, err := benchkit.Compare(qmRounds, fx.measure(b, "query API", subject), fx.measure(b, "reference", reference), benchkit.Over)
		r.Unit, r.Target = "requests/s", benchkit.RatioAtLeast(0.8)
		r.Note = fmt.Sprintf("higher is better; GET /v1/rooms/{room}/messages?limit=%d, %d keep-alive "+
			"clients, %d requests a side and round, median of %d alternating rounds; %d rooms x %d messages, %d members each; "+
			"reference: net/http + the same JWT check, SQL, cursor HMAC and encoding/json",
			qmLimit, qmClients, qmRequests, qmRounds, qmRooms, qmMessagesInRoom, qmMembersInRoom)
		benchkit.Save(b, "query_messages", r, err)
	}
}

// messagesFixture is a views read model filled straight with COPY, the callers' tokens, and the client both
// servers are driven with.
type messagesFixture struct {
	name    string
	rooms   []string
	members [][]int // members[r]: the accounts of room r
	tokens  []string
	newest  []string // newest[r]: the id of room r's newest message
	client  *http.Client
	seed    atomic.Uint64
}

// newMessagesFixture creates views version 1 under a unique name, makes it live, COPYs the rooms, accounts,
// members and messages into it, and drops both schemas when the benchmark ends.
func newMessagesFixture(b *testing.B) *messagesFixture {
	b.Helper()
	st := testkit.MustStack(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, st.Postgres.URL.Reveal())
	if err != nil {
		b.Fatalf("postgres pool: %v", err)
	}
	b.Cleanup(pool.Close)
	fx := &messagesFixture{
		name: strings.ReplaceAll(testkit.UniqueName(b, "qb"), "-", "_"),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 4 * qmClients, MaxIdleConnsPerHost: qmClients, DisableCompression: true,
		}},
	}
	b.Cleanup(fx.client.CloseIdleConnections)
	p, err := views.New(pool, views.Config{Name: fx.name})
	if err != nil {
		b.Fatal(err)
	}
	target := projection.TargetName(fx.name, 1)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, s := range []string{fx.name, target} {
			if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
				b.Errorf("drop schema %s: %v", s, err)
			}
		}
	})
	t, err := p.Open(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := t.Close(); err != nil {
		b.Fatal(err)
	}
	if err := p.Switch(ctx, 0, 1); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := fx.fill(ctx, pool, target); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %s with %d rooms, %d messages, %d members in %s", target, qmRooms, qmRooms*qmMessagesInRoom,
		qmRooms*qmMembersInRoom, time.Since(start).Round(time.Millisecond))
	fx.tokens = make([]string, qmAccounts)
	for a := range qmAccounts {
		fx.tokens[a] = authtest.MintHS256(b, testSecret, accountID(a), 2*time.Hour)
	}
	return fx
}

func accountID(a int) string { return fmt.Sprintf("acct-%04d", a) }

// fill COPYs the model into schema's tables and analyzes them.
func (fx *messagesFixture) fill(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	base := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Microsecond)
	accounts := make([][]any, qmAccounts)
	for a := range qmAccounts {
		accounts[a] = []any{accountID(a), fmt.Sprintf("Account %d", a), int64(1)}
	}
	var rooms, members, messages [][]any
	for r := range qmRooms {
		id := fmt.Sprintf("room-%03d", r)
		fx.rooms = append(fx.rooms, id)
		var mine []int
		for k := range qmMembersInRoom {
			a := (r*5 + k) % qmAccounts
			mine = append(mine, a)
			role := "member"
			if k == 0 {
				role = "admin"
			}
			members = append(members, []any{id, accountID(a), fmt.Sprintf("Account %d", a), role})
		}
		fx.members = append(fx.members, mine)
		var last time.Time
		for i := range qmMessagesInRoom {
			posted := base.Add(time.Duration(i*qmRooms+r) * time.Millisecond)
			var edited *time.Time
			if i%10 == 0 {
				e := posted.Add(time.Minute)
				edited = &e
			}
			sender := mine[i%qmMembersInRoom]
			msg := fmt.Sprintf("msg-%03d-%04d", r, i)
			text := fmt.Sprintf("Message %d of room %d: the quick brown fox jumps over the lazy dog, "+
				"then asks about the <release> plan for the week — ça va?", i, r)
			messages = append(messages, []any{msg, id, accountID(sender), fmt.Sprintf("Account %d", sender), text, posted, edited})
			last = posted
			if i == qmMessagesInRoom-1 {
				fx.newest = append(fx.newest, msg)
			}
		}
		rooms = append(rooms, []any{id, fmt.Sprintf("Room %d", r), qmMembersInRoom, last, int64(qmMessagesInRoom + qmMembersInRoom)})
	}
	tables := []struct {
		name string
		cols []string
		rows [][]any
	}{
		{"accounts", []string{"id", "name", "version"}, accounts},
		{"rooms", []string{"id", "name", "member_count", "last_message_at", "version"}, rooms},
		{"members", []string{"room_id", "account_id", "name", "role"}, members},
		{"messages", []string{"id", "room_id", "sender_id", "sender_name", "text", "posted_at", "edited_at"}, messages},
	}
	for _, t := range tables {
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{schema, t.name}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
			return fmt.Errorf("copy into %s.%s: %w", schema, t.name, err)
		}
		if _, err := pool.Exec(ctx, "ANALYZE "+pgx.Identifier{schema, t.name}.Sanitize()); err != nil {
			return fmt.Errorf("analyze %s.%s: %w", schema, t.name, err)
		}
	}
	return nil
}

// startBenchQueryAPI runs the query API in process on views name, as a deployment would configure it (info
// access log, written to /dev/null) except for a rate limit no benchmark client reaches; it returns the base URL.
func startBenchQueryAPI(b *testing.B, name string) string {
	b.Helper()
	st := testkit.MustStack(b)
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = devNull.Close() })
	cfg := Config{HTTP: servicetest.HTTP(), Log: config.Log{Level: slog.LevelInfo, Format: "json"}, AWS: st.AWS,
		Postgres: st.Postgres, Search: st.Search, Auth: auth.Config{HS256Secret: testSecret},
		RateLimit: ratelimit.Config{RPS: 1e6, Burst: 1_000_000, MaxKeys: 100_000},
		Query: QueryConfig{ViewsName: name, SearchName: name, ConsistencyTimeout: time.Second,
			SearchPollInterval: 50 * time.Millisecond, CursorSecret: "bench-cursor-secret-0123456789"}}
	m, err := NewMain(context.Background(), cfg, devNull)
	if err != nil {
		b.Fatal(err)
	}
	return servicetest.Start(b, m).URL
}

// request is one benchmark request: a room and a member of it.
func (fx *messagesFixture) request(rng *rand.Rand) (room string, token string) {
	r := rng.IntN(qmRooms)
	return fx.rooms[r], fx.tokens[fx.members[r][rng.IntN(qmMembersInRoom)]]
}

// measure returns one round of n requests against base, in requests/s, logged.
func (fx *messagesFixture) measure(b *testing.B, label, base string) benchkit.Measure {
	return func() (float64, error) {
		rps, err := fx.drive(base, qmRequests)
		b.Logf("%s: %.0f requests/s", label, rps)
		return rps, err
	}
}

// drive sends n requests to base from qmClients goroutines and returns the requests/s; it fails on the first
// answer that is not a 200 page of items.
func (fx *messagesFixture) drive(base string, n int) (float64, error) {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	seed := fx.seed.Add(1)
	start := time.Now()
	for c := range qmClients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			buf := make([]byte, 32<<10)
			for next.Add(1) <= int64(n) {
				room, token := fx.request(rng)
				if err := fx.get(base, room, token, buf); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return 0, first
	}
	return float64(n) / elapsed.Seconds(), nil
}

var pagePrefix = []byte(`{"items":[{`)

// get asks base for the newest page of room as token's caller and reads the answer into buf.
func (fx *messagesFixture) get(base, room, token string, buf []byte) error {
	req, err := http.NewRequest(http.MethodGet, base+"/v1/rooms/"+room+"/messages?limit=20", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := fx.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.ReadFull(resp.Body, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read the answer of %s: %w", req.URL, err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("read the answer of %s: %w", req.URL, err)
	}
	if resp.StatusCode != http.StatusOK || n < len(pagePrefix) || string(buf[:len(pagePrefix)]) != string(pagePrefix) {
		return fmt.Errorf("GET %s = %d %.200s, want 200 and a page of items", req.URL, resp.StatusCode, buf[:n])
	}
	return nil
}

// benchPage is a messages page as both servers answer it; the cursor is checked for presence only, as each side
// signs its own.
type benchPage struct {
	Items []struct {
		ID     string `json:"id"`
		RoomID string `json:"room_id"`
		Sender struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"sender"`
		Text     string  `json:"text"`
		PostedAt string  `json:"posted_at"`
		EditedAt *string `json:"edited_at"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// checkSameAnswers fails the benchmark unless both servers answer the same pages for random rooms and members
// (the room's newest message first, limit items, a next cursor) and both refuse a non-member with 404.
func (fx *messagesFixture) checkSameAnswers(b *testing.B, subject, reference string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r := rng.IntN(qmRooms)
		token := fx.tokens[fx.members[r][rng.IntN(qmMembersInRoom)]]
		var pages [2]benchPage
		for i, base := range []string{subject, reference} {
			code, body := fx.getBody(b, base, fx.rooms[r], token)
			if code != http.StatusOK {
				b.Fatalf("%s: GET messages of %s = %d %s", base, fx.rooms[r], code, body)
			}
			if err := json.Unmarshal(body, &pages[i]); err != nil {
				b.Fatalf("%s: decode %s: %v", base, body, err)
			}
			if len(pages[i].Items) != qmLimit || pages[i].Items[0].ID != fx.newest[r] || pages[i].NextCursor == nil {
				b.Fatalf("%s: page of %s = %s, want %d items from %s and a next cursor", base, fx.rooms[r], body, qmLimit, fx.newest[r])
			}
		}
		if !reflect.DeepEqual(pages[0].Items, pages[1].Items) {
			b.Fatalf("room %s: the query API answered %+v, the reference %+v", fx.rooms[r], pages[0].Items, pages[1].Items)
		}
	}
	outsider := authtest.MintHS256(b, testSecret, "acct-outsider", time.Hour)
	for _, base := range []string{subject, reference} {
		if code, body := fx.getBody(b, base, fx.rooms[0], outsider); code != http.StatusNotFound {
			b.Fatalf("%s: a non-member's GET messages = %d %s, want 404", base, code, body)
		}
	}
}

func (fx *messagesFixture) getBody(b *testing.B, base, room, token string) (int, []byte) {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v1/rooms/"+room+"/messages?limit=20", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := fx.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return resp.StatusCode, body
}
