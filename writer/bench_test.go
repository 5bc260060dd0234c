package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
	benchRounds  = 3
	// latencyOps is per client and round: 16 × 64 = 1,024 commands per side and round, so that the p99.9 of a
	// round is the second-slowest command and its p99 the eleventh, not the maximum of a handful.
	latencyOps = 64
	// transactOps is per client and round of the diagnostic, which needs a rate, not a tail.
	transactOps = 5
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
		return fmt.Errorf("post to %s: %w", cb.rooms[client], err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("post to %s: status %d", cb.rooms[client], resp.StatusCode)
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
	if err != nil {
		return fmt.Errorf("reference put %d of client %d: %w", i, client, err)
	}
	return nil
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
	if err != nil {
		return fmt.Errorf("reference transaction %d of client %d: %w", i, client, err)
	}
	return nil
}

// side returns one round of op: benchClients clients doing n operations each, concurrently, in a round of its
// own (the reference's items go to fresh partitions each round).
func (cb *commandBench) side(n int, op func(client, i int) error) func() (sample, error) {
	return func() (sample, error) {
		cb.round++
		return run(benchClients, n, op)
	}
}

// commandFigures are the results of BenchmarkRatioCommandLatency, all from the same rounds.
var commandFigures = []figure{
	{name: "command_throughput", unit: "commands/s", of: rate, target: benchkit.RatioAtLeast(0.7)},
	{name: "command_latency_p50", unit: "ms", of: quantile(0.50), target: benchkit.RatioAtMost(1.75)},
	{name: "command_latency_p99", unit: "ms", of: quantile(0.99), target: benchkit.RatioAtMost(2)},
	{name: "command_latency_p999", unit: "ms", of: quantile(0.999), target: benchkit.RatioAtMost(3)},
}

// BenchmarkRatioCommandLatency: PostMessage through the writer (hot cache, HTTP, JWT, one TransactWriteItems
// each) against a bare conditional PutItem on the same DynamoDB server, 16 clients, 1,024 commands per side and
// round (so the p99.9 of a round is its second-slowest command, its p99 the eleventh), three rounds alternating
// which side goes first. From the same rounds: commands/s (command_throughput, target ratio >= 0.7) and the p50,
// p99 and p99.9 latencies (command_latency_p50, _p99, _p999).
//
// The local stack's moto serves one request at a time, so with 16 clients a command's latency is mostly its
// wait behind the other 15 at moto: every figure here is bounded by moto, and the ratios say how much more of
// moto's time a command takes (a transaction, and the snapshot written every 100 appends) rather than the
// writer's own work. So the p50 ratio is about the reference's rate over the writer's (1/0.7 = 1.43 at the
// throughput target); measured 1.30 to 1.50 (medians of six runs on a shared 2-core machine), its target, 1.75,
// leaves room for that machine's noise and still fails a command that costs moto three-quarters more than a
// PutItem. The p99 is held to 2 (measured 1.08 to 2.67: other processes' bursts land in one side's tail or the
// other's). The p99.9 is the figure most exposed to a pause (a GC, moto's, another process), hence 3 (measured
// 1.10 to 2.45).
func BenchmarkRatioCommandLatency(b *testing.B) {
	benchkit.Expect(b, figureNames(commandFigures)...)
	cb := newCommandBench(b)
	for b.Loop() {
		rs, err := compareFigures(benchRounds, cb.side(latencyOps, cb.post), cb.side(latencyOps, cb.put), commandFigures)
		saveFigures(b, commandFigures, rs, fmt.Sprintf("%d clients x %d commands per side and round; reference: conditional "+
			"PutItem; bounded by moto, which serves one request at a time", benchClients, latencyOps), err)
	}
}

// transactFigures is the result of BenchmarkRatioCommandOverTransaction: a diagnostic, with no target.
var transactFigures = []figure{{name: "command_throughput_over_transaction", unit: "commands/s", of: rate}}

// BenchmarkRatioCommandOverTransaction (diagnostic): PostMessage commands/s through the writer over the bare
// TransactWriteItems an append makes, on the same server; it isolates the writer's own overhead from the cost of
// DynamoDB transactions (on moto, far higher than a PutItem's).
func BenchmarkRatioCommandOverTransaction(b *testing.B) {
	benchkit.Expect(b, figureNames(transactFigures)...)
	cb := newCommandBench(b)
	for b.Loop() {
		rs, err := compareFigures(benchRounds, cb.side(transactOps, cb.post), cb.side(transactOps, cb.transact), transactFigures)
		saveFigures(b, transactFigures, rs, "diagnostic, no target; reference: the append's bare TransactWriteItems, 16 clients", err)
	}
}
