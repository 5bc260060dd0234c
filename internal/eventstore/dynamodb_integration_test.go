package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
)

// dynamoFixture is eventstoretest's fixture with this file's item reader.
type dynamoFixture struct {
	*eventstoretest.DynamoDBFixture
}

func newDynamoFixture(tb testing.TB, change func(*eventstore.DynamoDBConfig)) *dynamoFixture {
	tb.Helper()
	return &dynamoFixture{eventstoretest.NewDynamoDBFixture(tb, change)}
}

func (f *dynamoFixture) getItem(t *testing.T, table string, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.AWS.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get item from %s: %v", table, err)
	}
	if len(out.Item) == 0 {
		t.Fatalf("no item %v in %s", key, table)
	}
	return out.Item
}

// motoStore is the fixture's store adapted to two gaps of moto 5 (the real DynamoDB has neither):
//   - moto evaluates a transaction's conditions and writes its items without isolation from concurrent
//     requests, so two racing appends at the same seq can both pass their conditions; Append is serialized
//     here, and the race itself is checked against the memory store;
//   - moto deep-copies the table for every item of a transaction, so a 10,000-event journal cannot be appended
//     in reasonable time; Seed implements the suite's Seeder.
type motoStore struct {
	*eventstore.DynamoDB
	f  *dynamoFixture
	mu *sync.Mutex
}

// Append implements eventstore.Store, one append at a time.
func (s motoStore) Append(ctx context.Context, req eventstore.AppendRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.DynamoDB.Append(ctx, req)
}

// Seed implements the suite's Seeder.
func (s motoStore) Seed(t *testing.T, events []eventstore.Record) { s.f.Seed(t, events) }

func TestDynamoDBContract(t *testing.T) {
	t.Parallel()
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		f := newDynamoFixture(t, nil)
		return motoStore{DynamoDB: f.Store, f: f, mu: &sync.Mutex{}}
	})
}

// TestDynamoDBCreateTablesTwice checks that CreateTables is idempotent and makes the journal with a NEW_IMAGE
// stream, TTL on the idempotency table, and the bucket; Ping then succeeds.
func TestDynamoDBCreateTablesTwice(t *testing.T) {
	t.Parallel()
	f := newDynamoFixture(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := f.Store.CreateTables(ctx); err != nil {
		t.Fatalf("second CreateTables: %v", err)
	}
	if err := f.Store.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	desc, err := f.AWS.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(f.Tables.Journal)})
	if err != nil {
		t.Fatalf("describe journal: %v", err)
	}
	tbl := desc.Table
	if spec := tbl.StreamSpecification; spec == nil || !aws.ToBool(spec.StreamEnabled) || spec.StreamViewType != types.StreamViewTypeNewImage {
		t.Errorf("journal stream = %+v, want enabled with NEW_IMAGE", tbl.StreamSpecification)
	}
	if aws.ToString(tbl.LatestStreamArn) == "" {
		t.Error("journal has no stream ARN")
	}
	keys := map[string]types.KeyType{}
	for _, k := range tbl.KeySchema {
		keys[aws.ToString(k.AttributeName)] = k.KeyType
	}
	if len(keys) != 2 || keys[eventstore.AttrAggregateID] != types.KeyTypeHash || keys[eventstore.AttrSeq] != types.KeyTypeRange {
		t.Errorf("journal key schema = %v, want aid hash and seq range", keys)
	}
	ttl, err := f.AWS.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(f.Tables.Idempotency)})
	if err != nil {
		t.Fatalf("describe ttl: %v", err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expires_at" {
		t.Errorf("idempotency ttl = %+v, want enabled on expires_at", ttl.TimeToLiveDescription)
	}
	if _, err := f.AWS.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(f.Bucket)}); err != nil {
		t.Errorf("bucket: %v", err)
	}
	ent, err := f.AWS.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(f.Tables.Entities)})
	if err != nil {
		t.Fatalf("describe entities: %v", err)
	}
	if ks := ent.Table.KeySchema; len(ks) != 1 || aws.ToString(ks[0].AttributeName) != "key" || ks[0].KeyType != types.KeyTypeHash {
		t.Errorf("entities key schema = %v, want key hash", ks)
	}
	if spec := ent.Table.StreamSpecification; spec != nil && aws.ToBool(spec.StreamEnabled) {
		t.Errorf("entities table has a stream: %+v", spec)
	}
}

// TestDynamoDBItemLayout reads the items an append writes with GetItem and checks their attribute names, types
// and values: the journal's are the contract the relay reads.
func TestDynamoDBItemLayout(t *testing.T) {
	t.Parallel()
	f := newDynamoFixture(t, nil)
	now := eventstoretest.ClockFor(t).Now()
	rec := eventstore.Record{
		AggregateID: "room-layout", AggregateType: "room", Seq: 1, Type: "RoomCreated", Version: 2,
		EventID: "evt-1", OccurredAt: time.Date(2026, 11, 25, 12, 0, 0, 120, time.UTC),
		CommandID: "cmd-1", Payload: []byte(`{"name":"random"}`),
	}
	expires := now.Add(24 * time.Hour)
	mustAppendT(t, f.Store, eventstore.AppendRequest{
		AggregateID: rec.AggregateID, Events: []eventstore.Record{rec},
		Snapshot: &eventstore.Snapshot{AggregateID: rec.AggregateID, Seq: 1, State: []byte("inline")},
		Entities: []eventstore.EntityWrite{
			{Key: "room-layout/msg-1", Set: map[string]string{"author": "acc-1", "deleted": ""}, Create: true},
		},
		Idempotency: &eventstore.IdempotencyRecord{Key: "key-1", RequestHash: "h1", Response: []byte("r1"), ExpiresAt: expires},
	})

	item := f.getItem(t, f.Tables.Journal, map[string]types.AttributeValue{
		"aid": &types.AttributeValueMemberS{Value: rec.AggregateID}, "seq": &types.AttributeValueMemberN{Value: "1"},
	})
	wantAttrs(t, "journal", item, map[string]string{
		"aid": "S:room-layout", "seq": "N:1", "aggregate_type": "S:room", "type": "S:RoomCreated", "version": "N:2",
		"event_id": "S:evt-1", "occurred_at": "S:2026-11-25T12:00:00.00000012Z", "correlation_id": "S:",
		"causation_id": "S:", "command_id": "S:cmd-1", "traceparent": "S:", "payload": `S:{"name":"random"}`,
	})
	back, err := eventstore.RecordFromItem(item)
	if err != nil {
		t.Fatalf("RecordFromItem: %v", err)
	}
	if back.Seq != rec.Seq || back.EventID != rec.EventID || !back.OccurredAt.Equal(rec.OccurredAt) || string(back.Payload) != string(rec.Payload) {
		t.Errorf("RecordFromItem = %+v, want %+v", back, rec)
	}

	snap := f.getItem(t, f.Tables.Snapshots, map[string]types.AttributeValue{"aid": &types.AttributeValueMemberS{Value: rec.AggregateID}})
	wantAttrs(t, "snapshot", snap, map[string]string{"aid": "S:room-layout", "seq": "N:1", "state": "B:inline"})

	idem := f.getItem(t, f.Tables.Idempotency, map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: "key-1"}})
	wantAttrs(t, "idempotency", idem, map[string]string{
		"key": "S:key-1", "request_hash": "S:h1", "response": "B:r1", "expires_at": "N:" + strconv.FormatInt(expires.Unix(), 10),
	})

	ent := f.getItem(t, f.Tables.Entities, map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: "room-layout/msg-1"}})
	wantAttrs(t, "entity", ent, map[string]string{"key": "S:room-layout/msg-1", "author": "S:acc-1", "deleted": "S:"})

	// State over the inline bound goes to S3 under snapshots/<aid>/<seq, 20 digits>-<suffix>, with an append or
	// saved alone.
	large := make([]byte, eventstoretest.InlineSnapshotMaxBytes+1)
	mustAppendT(t, f.Store, eventstore.AppendRequest{
		AggregateID: rec.AggregateID, ExpectedSeq: 1, Events: []eventstore.Record{{
			AggregateID: rec.AggregateID, AggregateType: "room", Seq: 2, Type: "RoomRenamed", Version: 1,
			EventID: "evt-2", OccurredAt: now, Payload: []byte(`{}`),
		}},
		Snapshot: &eventstore.Snapshot{AggregateID: rec.AggregateID, Seq: 2, State: large},
	})
	f.wantSnapshotObject(t, rec.AggregateID, 2, len(large))
	larger := append(large, 1)
	if err := f.Store.SaveSnapshot(t.Context(), eventstore.Snapshot{AggregateID: rec.AggregateID, Seq: 3, State: larger}); err != nil {
		t.Fatalf("save snapshot: %v", err)
	}
	key := f.wantSnapshotObject(t, rec.AggregateID, 3, len(larger))

	// A pointer whose object has been removed (a lifecycle rule) reads as no snapshot.
	if _, err := f.AWS.S3.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("delete snapshot object: %v", err)
	}
	if got, err := f.Store.LatestSnapshot(t.Context(), rec.AggregateID); err != nil || got != nil {
		t.Errorf("snapshot with its object gone = %v, %v; want none", got, err)
	}
}

// wantSnapshotObject checks that aid's snapshot pointer names an S3 object of seq and size bytes under
// snapshots/<aid>/<seq, 20 digits>-<suffix>, and returns its key.
func (f *dynamoFixture) wantSnapshotObject(t *testing.T, aid string, seq int64, size int) string {
	t.Helper()
	snap := f.getItem(t, f.Tables.Snapshots, map[string]types.AttributeValue{"aid": &types.AttributeValueMemberS{Value: aid}})
	key, ok := snap["s3_key"].(*types.AttributeValueMemberS)
	if !ok || snap["state"] != nil {
		t.Fatalf("large snapshot pointer = %v, want an s3_key and no inline state", snap)
	}
	if !regexp.MustCompile(fmt.Sprintf(`^snapshots/%s/%020d-[0-9a-f]{16}$`, regexp.QuoteMeta(aid), seq)).MatchString(key.Value) {
		t.Errorf("snapshot object key %q", key.Value)
	}
	obj, err := f.AWS.S3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key.Value)})
	if err != nil || aws.ToInt64(obj.ContentLength) != int64(size) {
		t.Errorf("snapshot object: %v, %d bytes; want %d bytes", err, aws.ToInt64(obj.ContentLength), size)
	}
	return key.Value
}

// wantAttrs checks that item has exactly the attributes of want, given as "TYPE:value".
func wantAttrs(t *testing.T, what string, item map[string]types.AttributeValue, want map[string]string) {
	t.Helper()
	if len(item) != len(want) {
		t.Errorf("%s item has %d attributes, want %d: %v", what, len(item), len(want), item)
	}
	for name, w := range want {
		var got string
		switch v := item[name].(type) {
		case *types.AttributeValueMemberS:
			got = "S:" + v.Value
		case *types.AttributeValueMemberN:
			got = "N:" + v.Value
		case *types.AttributeValueMemberB:
			got = "B:" + string(v.Value)
		case nil:
			got = "missing"
		default:
			got = "other type"
		}
		if got != w {
			t.Errorf("%s attribute %s = %q, want %q", what, name, got, w)
		}
	}
}

func mustAppendT(t *testing.T, s eventstore.Store, req eventstore.AppendRequest) {
	t.Helper()
	if err := s.Append(t.Context(), req); err != nil {
		t.Fatalf("append: %v", err)
	}
}

// TestDynamoDBLoadPaginates loads through pages of 3 items.
func TestDynamoDBLoadPaginates(t *testing.T) {
	t.Parallel()
	f := newDynamoFixture(t, func(c *eventstore.DynamoDBConfig) { c.LoadPageSize = 3 })
	evs := make([]eventstore.Record, 10)
	for i := range evs {
		evs[i] = eventstore.Record{
			AggregateID: "room-pages", AggregateType: "room", Seq: int64(i) + 1, Type: "MessagePosted", Version: 1,
			EventID: "evt-" + strconv.Itoa(i+1), Payload: []byte(`{}`),
		}
	}
	mustAppendT(t, f.Store, eventstore.AppendRequest{AggregateID: "room-pages", Events: evs})
	for _, after := range []int64{0, 3, 4, 9, 10} {
		recs, err := f.Store.Load(t.Context(), "room-pages", after)
		if err != nil {
			t.Fatalf("load after %d: %v", after, err)
		}
		if len(recs) != int(10-after) {
			t.Fatalf("load after %d: %d events, want %d", after, len(recs), 10-after)
		}
		for i, r := range recs {
			if r.Seq != after+int64(i)+1 {
				t.Fatalf("load after %d: event %d has seq %d", after, i, r.Seq)
			}
		}
	}
}

// TestDynamoDBUnreachable points the store at a closed port: every call fails fast with ErrUnavailable, and a
// call on an expired context with the context's error.
func TestDynamoDBUnreachable(t *testing.T) {
	t.Parallel()
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 2,
	}
	endpoint := aws.String("http://127.0.0.1:1")
	store, err := eventstore.NewDynamoDB(eventstore.DynamoDBConfig{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = endpoint }),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = endpoint
			o.UsePathStyle = true
		}),
		Tables: eventstore.TablesWithPrefix("unreachable"), Bucket: "unreachable",
	})
	if err != nil {
		t.Fatal(err)
	}
	req := eventstore.AppendRequest{AggregateID: "room-1", Events: []eventstore.Record{{
		AggregateID: "room-1", AggregateType: "room", Seq: 1, Type: "RoomCreated", Version: 1, EventID: "e1", Payload: []byte(`{}`),
	}}}
	withLargeSnapshot := req
	withLargeSnapshot.Snapshot = &eventstore.Snapshot{AggregateID: "room-1", Seq: 1, State: make([]byte, 1<<20)}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"append", func(ctx context.Context) error { return store.Append(ctx, req) }},
		{"append with a large snapshot", func(ctx context.Context) error { return store.Append(ctx, withLargeSnapshot) }},
		{"load", func(ctx context.Context) error { _, err := store.Load(ctx, "room-1", 0); return err }},
		{"latest snapshot", func(ctx context.Context) error { _, err := store.LatestSnapshot(ctx, "room-1"); return err }},
		{"idempotency", func(ctx context.Context) error { _, err := store.Idempotency(ctx, "k"); return err }},
		{"entity", func(ctx context.Context) error { _, err := store.Entity(ctx, "k"); return err }},
		{"save snapshot", func(ctx context.Context) error { return store.SaveSnapshot(ctx, *withLargeSnapshot.Snapshot) }},
		{"ping", store.Ping},
		{"create tables", store.CreateTables},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err := c.call(ctx)
			if !errors.Is(err, eventstore.ErrUnavailable) {
				t.Errorf("got %v, want ErrUnavailable", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %v to report an unreachable server", took)
			}

			expired, cancelExpired := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
			defer cancelExpired()
			err = c.call(expired)
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, eventstore.ErrUnavailable) {
				t.Errorf("on an expired context: got %v, want the context's error alone", err)
			}
		})
	}
}
