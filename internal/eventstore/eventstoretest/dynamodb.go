package eventstoretest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// DynamoDBFixture is a DynamoDB store on the local stack with its own tables and bucket, removed when the test
// ends.
type DynamoDBFixture struct {
	Store  *eventstore.DynamoDB
	AWS    *awsclient.Clients
	Tables eventstore.Tables
	Bucket string
}

// NewDynamoDBFixture creates the fixture's tables with CreateTables (failing the test when it cannot); change,
// when not nil, adjusts the configuration first. Its clock is ClockFor(tb), its call timeout two minutes.
func NewDynamoDBFixture(tb testing.TB, change func(*eventstore.DynamoDBConfig)) *DynamoDBFixture {
	tb.Helper()
	cl := testkit.AWS(tb)
	f := &DynamoDBFixture{AWS: cl, Tables: eventstore.TablesWithPrefix(testkit.UniqueName(tb, "es")), Bucket: testkit.S3Bucket(tb)}
	cfg := eventstore.DynamoDBConfig{
		DynamoDB: cl.DynamoDB, S3: cl.S3, Tables: f.Tables, Bucket: f.Bucket,
		InlineSnapshotMaxBytes: InlineSnapshotMaxBytes,
		LoadPageSize:           1000,
		// moto answers a 4 MB transaction or a 1,000-item page in seconds when busy: no call should fail for that.
		CallTimeout: callTimeout,
		Now:         ClockFor(tb).Now,
	}
	if change != nil {
		change(&cfg)
	}
	store, err := eventstore.NewDynamoDB(cfg)
	if err != nil {
		tb.Fatalf("new dynamodb store: %v", err)
	}
	f.Store = store
	tb.Cleanup(func() { f.deleteTables(tb) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := store.CreateTables(ctx); err != nil {
		tb.Fatalf("create tables: %v", err)
	}
	return f
}

// DynamoDB returns a store on the local stack with its own tables, real clock and default snapshot bound.
func DynamoDB(tb testing.TB) *eventstore.DynamoDB {
	tb.Helper()
	return NewDynamoDBFixture(tb, func(c *eventstore.DynamoDBConfig) {
		c.Now, c.InlineSnapshotMaxBytes = time.Now, 0
	}).Store
}

func (f *DynamoDBFixture) deleteTables(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	testkit.DeleteTables(ctx, tb, f.AWS.DynamoDB, f.Tables.Names()...)
}

// Seed writes events straight into the journal with BatchWriteItem, in the items JournalItem makes: for long
// journals on moto 5, which deep-copies the table for every item of a transaction.
func (f *DynamoDBFixture) Seed(tb testing.TB, events []eventstore.Record) {
	tb.Helper()
	const batch = 25
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for start := 0; start < len(events); start += batch {
		reqs := make([]types.WriteRequest, 0, batch)
		for _, ev := range events[start:min(start+batch, len(events))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: eventstore.JournalItem(ev)}})
		}
		pending := map[string][]types.WriteRequest{f.Tables.Journal: reqs}
		for len(pending) > 0 {
			out, err := f.AWS.DynamoDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				tb.Fatalf("seed events %d+: %v", start+1, err)
			}
			pending = out.UnprocessedItems
		}
	}
}
