package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

const testSecret = "writer-test-secret-0123456789"

// testConfig returns a writer configuration on the local stack with its own journal tables and snapshot bucket,
// created before it returns and deleted when the test ends.
func testConfig(tb testing.TB) Config {
	tb.Helper()
	st := testkit.MustStack(tb)
	prefix := testkit.UniqueName(tb, "w")
	cfg, err := config.LoadFrom[Config]("", map[string]string{
		"AUTH_HS256_SECRET": testSecret, "DYNAMODB_TABLE_PREFIX": prefix, "SNAPSHOT_BUCKET": testkit.S3Bucket(tb),
		"RATE_LIMIT_RPS": "100000", "RATE_LIMIT_BURST": "100000",
	})
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	cfg.HTTP, cfg.Log, cfg.AWS = servicetest.HTTP(), servicetest.Log(), st.AWS

	clients := testkit.AWS(tb)
	tables := eventstore.TablesWithPrefix(prefix)
	store, err := eventstore.NewDynamoDB(eventstore.DynamoDBConfig{
		DynamoDB: clients.DynamoDB, S3: clients.S3, Tables: tables, Bucket: cfg.Journal.SnapshotBucket,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.CreateTables(ctx); err != nil {
		tb.Fatalf("create tables: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		testkit.DeleteTables(ctx, tb, clients.DynamoDB, tables.Names()...)
	})
	return cfg
}

// writerAt is a running writer and a client for its HTTP API.
type writerAt struct {
	tb   testing.TB
	url  string
	main *Main
}

func startWriter(tb testing.TB, cfg Config) *writerAt {
	tb.Helper()
	m, err := NewMain(context.Background(), cfg, io.Discard)
	if err != nil {
		tb.Fatalf("NewMain: %v", err)
	}
	run := servicetest.Start(tb, m)
	return &writerAt{tb: tb, url: run.URL, main: m}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a command as account sub with a JSON body (none when body is "") and headers as name, value pairs.
func (w *writerAt) do(method, path, sub, body string, headers ...string) reply {
	w.tb.Helper()
	req, err := http.NewRequest(method, w.url+path, strings.NewReader(body))
	if err != nil {
		w.tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+authtest.MintHS256(w.tb, testSecret, sub, time.Hour))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		w.tb.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (w *writerAt) must(want int, method, path, sub, body string, headers ...string) reply {
	w.tb.Helper()
	r := w.do(method, path, sub, body, headers...)
	if r.status != want {
		w.tb.Fatalf("%s %s: %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

func (w *writerAt) journal(id string) []eventstore.Record {
	w.tb.Helper()
	recs, err := w.main.Store.Load(context.Background(), id, 0)
	if err != nil {
		w.tb.Fatalf("load %s: %v", id, err)
	}
	return recs
}

// TestConcurrentPostsOnOneRoom posts 32 messages at once to one room through two writer processes' worth of
// writers sharing one journal, so appends really race in DynamoDB: every command succeeds and the journal holds
// seqs 1..33 with no gap and no duplicate.
func TestConcurrentPostsOnOneRoom(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	a, b := startWriter(t, cfg), startWriter(t, cfg)
	a.must(201, "POST", "/v1/accounts", "alice", `{"name":"Alice"}`)
	room := a.must(201, "POST", "/v1/rooms", "alice", `{"name":"hot"}`).body["id"].(string)
	// Both writers hold the room in their hot caches: each one's next append conflicts with the other's.
	a.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"warm a"}`)
	b.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"warm b"}`)

	const n = 32
	var wg sync.WaitGroup
	versions := make([]float64, n)
	for i := range n {
		w := []*writerAt{a, b}[i%2]
		wg.Go(func() {
			// A 503 (contention: the retries inside the writer ran out, as they may on a loaded machine) appended
			// nothing, so the client sends the command again; the journal count below holds it to that.
			r := w.do("POST", "/v1/rooms/"+room+"/messages", "alice", fmt.Sprintf(`{"text":"message %d"}`, i))
			for try := 1; r.status == 503 && strings.Contains(r.raw, "changing too fast") && try < 20; try++ {
				r = w.do("POST", "/v1/rooms/"+room+"/messages", "alice", fmt.Sprintf(`{"text":"message %d"}`, i))
			}
			if r.status != 201 {
				t.Errorf("post %d: %d %s", i, r.status, r.raw)
				return
			}
			versions[i], _ = r.body["version"].(float64)
		})
	}
	wg.Wait()

	recs := a.journal(room)
	if len(recs) != n+3 {
		t.Fatalf("journal has %d events, want %d", len(recs), n+3)
	}
	seen := map[float64]bool{}
	for i, rec := range recs {
		if rec.Seq != int64(i+1) {
			t.Fatalf("journal position %d holds seq %d: gap or duplicate", i, rec.Seq)
		}
	}
	for _, v := range versions {
		if v < 4 || v > n+3 || seen[v] {
			t.Errorf("response version %v out of range or repeated", v)
		}
		seen[v] = true
	}
}

func TestIfMatchAndIdempotencyOnDynamoDB(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	a, b := startWriter(t, cfg), startWriter(t, cfg)
	a.must(201, "POST", "/v1/accounts", "alice", `{"name":"Alice"}`)
	room := a.must(201, "POST", "/v1/rooms", "alice", `{"name":"r"}`).body["id"].(string)
	a.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"hi"}`)

	stale := a.do("POST", "/v1/rooms/"+room+"/rename", "alice", `{"name":"x"}`, "If-Match", `"1"`)
	if stale.status != 412 || stale.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("stale If-Match: %d %s, want a 412 problem", stale.status, stale.raw)
	}
	if n := len(a.journal(room)); n != 2 {
		t.Errorf("journal has %d events after a 412, want 2", n)
	}
	a.must(200, "POST", "/v1/rooms/"+room+"/rename", "alice", `{"name":"x"}`, "If-Match", `"2"`)

	// The retry lands on the other writer: the record in DynamoDB, not a process's memory, answers it.
	key := []string{"Idempotency-Key", "k-1", "X-Request-Id", "req-42"}
	first := a.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"once"}`, key...)
	again := b.must(201, "POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"once"}`, key...)
	if first.raw != again.raw {
		t.Errorf("replay differs:\n%s\n%s", first.raw, again.raw)
	}
	recs := a.journal(room)
	if len(recs) != 4 {
		t.Fatalf("journal has %d events, want 4", len(recs))
	}
	last := recs[3]
	if last.CorrelationID != "req-42" || last.CommandID == "" || last.CausationID != last.CommandID {
		t.Errorf("event metadata = correlation %q, command %q, causation %q", last.CorrelationID, last.CommandID, last.CausationID)
	}
	if other := b.do("POST", "/v1/rooms/"+room+"/messages", "alice", `{"text":"twice"}`, key...); other.status != 422 {
		t.Errorf("key reused with another body: %d %s, want 422", other.status, other.raw)
	}
}

// TestDynamoDBDownAnswers503 points a writer at a closed port: commands answer 503 with Retry-After, promptly,
// and the problem says nothing of the cause.
func TestDynamoDBDownAnswers503(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.AWS.EndpointURL, cfg.AWS.EndpointDynamoDB, cfg.AWS.EndpointS3 = "http://127.0.0.1:1", "", ""
	w := startWriter(t, cfg)
	start := time.Now()
	r := w.do("POST", "/v1/accounts", "alice", `{"name":"Alice"}`)
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("DynamoDB down: %d (Retry-After %q) %s, want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.raw)
	}
	if strings.Contains(r.raw, "127.0.0.1") || strings.Contains(r.raw, "dial") {
		t.Errorf("503 leaks internal detail: %s", r.raw)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("503 took %s", took)
	}
}
