package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

const (
	benchClients = 16
	benchOps     = 5 // per client and round: moto 5 copies the table per transaction item, so keep it small
	benchRounds  = 3
)

// commandBench is a running writer with one warm room per client, and the reference: bare conditional PutItem
// calls into a table of the journal's shape on the same DynamoDB server.
type commandBench struct {
	w      *writerAt
	rooms  []string
	tokens []string
	ddb    *dynamodb.Client
	table  string
	round  int
}

func newCommandBench(b *testing.B) *commandBench {
	cfg := testConfig(b)
	w := startWriter(b, cfg)
	cb := &commandBench{w: w, ddb: testkit.AWS(b).DynamoDB, table: eventstore.TablesWithPrefix(cfg.Journal.TablePrefix).Journal}
	for i := range benchClients {
		sub := fmt.Sprintf("bench-%d", i)
		w.must(201, "POST", "/v1/accounts", sub, `{"name":"Bench"}`)
		room := w.must(201, "POST", "/v1/rooms", sub, `{"name":"bench"}`).body["id"].(string)
		w.must(201, "POST", "/v1/rooms/"+room+"/messages", sub, `{"text":"warm"}`)
		cb.rooms = append(cb.rooms, room)
		cb.tokens = append(cb.tokens, authtest.MintHS256(b, testSecret, sub, time.Hour))
	}
	return cb
}

// run has benchClients clients do benchOps operations each, concurrently; it returns the operations per second
// and every operation's latency.
func run(op func(client, i int) error) (float64, []time.Duration, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lats  []time.Duration
		first error
	)
	start := time.Now()
	for c := range benchClients {
		wg.Go(func() {
			mine := make([]time.Duration, 0, benchOps)
			for i := range benchOps {
				t0 := time.Now()
				if err := op(c, i); err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return float64(benchClients*benchOps) / time.Since(start).Seconds(), lats, first
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}

// post sends one PostMessage through the writer's HTTP API.
func (cb *commandBench) post(client, i int) error {
	req, err := http.NewRequest("POST", cb.w.url+"/v1/rooms/"+cb.rooms[client]+"/messages",
		strings.NewReader(`{"text":"benchmark message `+strconv.Itoa(i)+`"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cb.tokens[client])
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("post: status %d", resp.StatusCode)
	}
	return nil
}

// put is the reference: one conditional PutItem of an event-sized item into the journal-shaped table.
func (cb *commandBench) put(client, i int) error {
	_, err := cb.ddb.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(cb.table),
		Item: map[string]types.AttributeValue{
			"aid":     &types.AttributeValueMemberS{Value: fmt.Sprintf("ref-%d-%d", cb.round, client)},
			"seq":     &types.AttributeValueMemberN{Value: strconv.Itoa(i + 1)},
			"type":    &types.AttributeValueMemberS{Value: "MessagePosted"},
			"payload": &types.AttributeValueMemberS{Value: `{"message_id":"msg-x","author_id":"bench","text":"benchmark message"}`},
		},
		ConditionExpression: aws.String("attribute_not_exists(aid)"),
	})
	return err
}

// transact is the diagnostic reference: the transaction an append of one event makes (a check that the previous
// seq exists and a conditional put of the next), without the writer around it.
func (cb *commandBench) transact(client, i int) error {
	aid := fmt.Sprintf("tx-%d-%d", cb.round, client)
	item := map[string]types.AttributeValue{
		"aid":     &types.AttributeValueMemberS{Value: aid},
		"seq":     &types.AttributeValueMemberN{Value: strconv.Itoa(i + 1)},
		"type":    &types.AttributeValueMemberS{Value: "MessagePosted"},
		"payload": &types.AttributeValueMemberS{Value: `{"message_id":"msg-x","author_id":"bench","text":"benchmark message"}`},
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(cb.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(aid)"),
	}}}
	if i > 0 {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(cb.table), ConditionExpression: aws.String("attribute_exists(aid)"),
			Key: map[string]types.AttributeValue{
				"aid": &types.AttributeValueMemberS{Value: aid}, "seq": &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
			},
		}})
	}
	_, err := cb.ddb.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func (cb *commandBench) measure(op func(int, int) error, pick func(float64, []time.Duration) float64) benchkit.Measure {
	return func() (float64, error) {
		cb.round++
		ops, lats, err := run(op)
		return pick(ops, lats), err
	}
}

func throughput(ops float64, _ []time.Duration) float64 { return ops }

func p99(_ float64, lats []time.Duration) float64 {
	slices.Sort(lats)
	if len(lats) == 0 {
		return 0
	}
	return float64(lats[len(lats)*99/100].Microseconds()) / 1000
}

// BenchmarkRatioCommandThroughput: PostMessage commands/s through the writer (hot cache, HTTP, JWT, one
// TransactWriteItems each) over bare conditional PutItem calls/s on the same DynamoDB server; 16 clients.
func BenchmarkRatioCommandThroughput(b *testing.B) {
	benchkit.Expect(b, "command_throughput")
	cb := newCommandBench(b)
	for b.Loop() {
		r, err := benchkit.Compare(benchRounds, cb.measure(cb.post, throughput), cb.measure(cb.put, throughput), benchkit.Over)
		r.Unit, r.Target, r.Note = "commands/s", benchkit.RatioAtLeast(0.7), "16 clients, reference: conditional PutItem"
		benchkit.Save(b, "command_throughput", r, err)
	}
}

// BenchmarkRatioCommandLatencyP99: p99 latency of PostMessage through the writer over p99 of a bare conditional
// PutItem, 16 concurrent clients.
func BenchmarkRatioCommandLatencyP99(b *testing.B) {
	benchkit.Expect(b, "command_latency_p99")
	cb := newCommandBench(b)
	for b.Loop() {
		r, err := benchkit.Compare(benchRounds, cb.measure(cb.post, p99), cb.measure(cb.put, p99), benchkit.Over)
		r.Unit, r.Target, r.Note = "ms", benchkit.RatioAtMost(2), "16 clients, reference: conditional PutItem"
		benchkit.Save(b, "command_latency_p99", r, err)
	}
}

// BenchmarkRatioCommandOverTransaction (diagnostic): PostMessage commands/s through the writer over the bare
// TransactWriteItems an append makes, on the same server; it isolates the writer's own overhead from the cost of
// DynamoDB transactions (on moto, far higher than a PutItem's).
func BenchmarkRatioCommandOverTransaction(b *testing.B) {
	benchkit.Expect(b, "command_throughput_over_transaction")
	cb := newCommandBench(b)
	for b.Loop() {
		r, err := benchkit.Compare(benchRounds, cb.measure(cb.post, throughput), cb.measure(cb.transact, throughput), benchkit.Over)
		// No target: a diagnostic figure.
		r.Unit, r.Note = "commands/s", "diagnostic, no target; reference: the append's bare TransactWriteItems, 16 clients"
		benchkit.Save(b, "command_throughput_over_transaction", r, err)
	}
}
