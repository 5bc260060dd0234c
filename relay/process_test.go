package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/relay/lease"
	"github.com/cqrses-aws/pipeline/relay/lease/leasetest"
	"github.com/cqrses-aws/pipeline/relay/relaytest"
	"github.com/cqrses-aws/pipeline/relay/stream"
)

func TestMain(m *testing.M) { servicetest.Main(m) }

// startProcess runs the named service of this module as its own process (see servicetest.StartProcess).
func startProcess(t *testing.T, service, name string, env map[string]string) *servicetest.Process {
	t.Helper()
	return servicetest.StartProcess(t, servicetest.Binary(t, "../"+service), name, nil, env)
}

// relayEnv is the environment of a relay process on the journal of tablePrefix, with its own lease table.
func relayEnv(tablePrefix, topicPrefix, leaseTable, owner string) map[string]string {
	return map[string]string{
		"DYNAMODB_TABLE_PREFIX": tablePrefix, "KAFKA_TOPIC_PREFIX": topicPrefix, "RELAY_LEASE_TABLE": leaseTable,
		"RELAY_OWNER": owner, "RELAY_LEASE_TTL": "3s", "RELAY_SCAN_INTERVAL": "200ms", "RELAY_IDLE_WAIT": "20ms",
		"KAFKA_TOPIC_PARTITIONS": "12",
	}
}

// TestKillNineMidStream kills the relay process with SIGKILL at a random moment while 10,000 events of 200 rooms
// are written, and starts another: once the dead one's lease expired, it takes the shard over from the last
// checkpoint. Nothing is missing, each room's order holds; the re-published events are counted.
func TestKillNineMidStream(t *testing.T) {
	t.Parallel()
	const rooms, perRoom = 200, 50
	journal := eventstoretest.NewDynamoDBFixture(t, nil)
	tablePrefix := strings.TrimSuffix(journal.Tables.Journal, "-journal")
	topicPrefix := testkit.EventTopics(t, 12)
	leases := leasetest.Table(t)
	arn, err := stream.NewDynamoDB(journal.AWS.DynamoDB, journal.AWS.Streams).StreamARN(context.Background(), journal.Tables.Journal)
	if err != nil {
		t.Fatal(err)
	}
	first := startProcess(t, "relay", "relay-1", relayEnv(tablePrefix, topicPrefix, leases.Name(), "first"))

	var seeding atomic.Bool
	seeding.Store(true)
	killed := make(chan error, 1)
	go func() {
		// Kill at a random moment mid-stream: once the first relay's checkpoint has moved a random number of
		// stream records (0 to 2,999) past its first one.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var startAt *big.Int
		past := big.NewInt(int64(rand.IntN(3000)))
		for {
			if cp, ok := new(big.Int).SetString(checkpoint(ctx, leases, arn).Checkpoint, 10); ok {
				if startAt == nil {
					startAt = cp
				}
				if new(big.Int).Sub(cp, startAt).Cmp(past) >= 0 {
					break
				}
			}
			select {
			case <-ctx.Done():
				killed <- fmt.Errorf("the first relay's checkpoint did not move %v records within 2 minutes", past)
				return
			case <-tick.C:
			}
		}
		at := checkpoint(ctx, leases, arn).Checkpoint
		first.Kill9()
		if !seeding.Load() {
			killed <- fmt.Errorf("the kill came after the journal was fully written: not mid-stream")
			return
		}
		t.Logf("relay-1 killed with SIGKILL at checkpoint %s", at)
		killed <- nil
	}()
	journal.Seed(t, relaytest.Interleaved(rooms, perRoom))
	seeding.Store(false)
	if err := <-killed; err != nil {
		t.Fatal(err)
	}
	startProcess(t, "relay", "relay-2", relayEnv(tablePrefix, topicPrefix, leases.Name(), "second"))

	p := relaytest.Consume(t, topicPrefix, rooms*perRoom, 3*time.Minute)
	relaytest.CheckOrder(t, p, rooms, perRoom)
	t.Logf("%d events relayed across the kill, %d re-published (duplicates)", p.Total(), p.Duplicates())
	if l := checkpoint(context.Background(), leases, arn); l.Owner != "second" {
		t.Errorf("lease after the kill = %+v, want it held by the second relay", l)
	}
}

// checkpoint returns the stream's first lease, the zero Lease when there is none (yet).
func checkpoint(ctx context.Context, leases *lease.Table, arn string) lease.Lease {
	ls, err := leases.List(ctx, arn)
	if err != nil || len(ls) == 0 {
		return lease.Lease{}
	}
	return ls[0]
}

// TestWriterToKafka posts through a writer process and reads the event from the room topic, with its headers,
// as a relay process published it.
func TestWriterToKafka(t *testing.T) {
	t.Parallel()
	const secret = "relay-test-secret-0123456789"
	journal := eventstoretest.NewDynamoDBFixture(t, nil)
	tablePrefix := strings.TrimSuffix(journal.Tables.Journal, "-journal")
	topicPrefix := testkit.EventTopics(t, 3)
	writer := startProcess(t, "writer", "writer", map[string]string{
		"DYNAMODB_TABLE_PREFIX": tablePrefix, "AUTH_HS256_SECRET": secret, "SNAPSHOT_BUCKET": journal.Bucket,
	})
	relay := startProcess(t, "relay", "relay", relayEnv(tablePrefix, topicPrefix, leasetest.Table(t).Name(), "e2e"))
	base := "http://" + writer.Addr(t)
	token := authtest.MintHS256(t, secret, "alice", time.Hour)
	post := func(path, body string) map[string]any {
		t.Helper()
		var out map[string]any
		relaytest.Eventually(t, 30*time.Second, "POST "+path+" succeeds", func() bool {
			req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			out = nil
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode == http.StatusCreated
		})
		return out
	}
	post("/v1/accounts", `{"name":"Alice"}`)
	room := post("/v1/rooms", `{"name":"general"}`)["id"].(string)
	msg := post("/v1/rooms/"+room+"/messages", `{"text":"明日の会議は10時からです"}`)["message_id"].(string)

	p := relaytest.Consume(t, topicPrefix, 3, time.Minute)
	var posted *relaytest.Seen
	for i, r := range p.Records {
		if r.Aggregate == room && r.Seq == 2 {
			posted = &p.Records[i]
		}
	}
	if posted == nil {
		t.Fatalf("no seq 2 of %s among %+v", room, p.Records)
	}
	for key, want := range map[string]string{
		kafka.HeaderType: "MessagePosted", kafka.HeaderSubject: room, kafka.HeaderSeq: "2",
		kafka.HeaderSource: "/" + topicPrefix + "/room", kafka.HeaderSpecVersion: "1.0",
		kafka.HeaderTraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	} {
		if got := posted.Headers[key]; got != want {
			t.Errorf("header %s = %q, want %q", key, got, want)
		}
	}
	if posted.Headers[kafka.HeaderID] == "" {
		t.Error("header ce_id is empty")
	}
	t.Logf("message %s of %s relayed with headers %v", msg, room, posted.Headers)

	// The relay's metrics tell the same: two room events, one account event, one shard held.
	metricsURL := "http://" + relay.Addr(t) + "/metrics"
	want := []string{
		`relay_records_total{topic="` + topicPrefix + `.room.events"} 2`,
		`relay_records_total{topic="` + topicPrefix + `.account.events"} 1`,
		"relay_shards_owned 1",
		"relay_stream_record_age_seconds_count 3",
		"relay_produce_latency_seconds_count",
	}
	relaytest.Eventually(t, 30*time.Second, "the relay's metrics count the events", func() bool {
		resp, err := http.Get(metricsURL)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				return false
			}
		}
		return true
	})
}
