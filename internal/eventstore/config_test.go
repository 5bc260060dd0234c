package eventstore_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

func TestTablesWithPrefix(t *testing.T) {
	t.Parallel()
	got := eventstore.TablesWithPrefix("chat")
	want := eventstore.Tables{
		Journal: "chat-journal", Snapshots: "chat-snapshots", Idempotency: "chat-idempotency", Entities: "chat-entities",
	}
	if got != want {
		t.Errorf("TablesWithPrefix = %+v, want %+v", got, want)
	}
	if names := got.Names(); !slices.Equal(names, []string{"chat-journal", "chat-snapshots", "chat-idempotency", "chat-entities"}) {
		t.Errorf("Names = %v", names)
	}
}

func TestDynamoDBConfigValidate(t *testing.T) {
	t.Parallel()
	valid := func() eventstore.DynamoDBConfig {
		return eventstore.DynamoDBConfig{
			DynamoDB: dynamodb.New(dynamodb.Options{Region: "us-east-1"}),
			S3:       s3.New(s3.Options{Region: "us-east-1"}),
			Tables:   eventstore.TablesWithPrefix("chat"),
			Bucket:   "snapshots",
		}
	}
	tests := []struct {
		name   string
		change func(*eventstore.DynamoDBConfig)
		want   []string // fragments of the error; none for a valid config
	}{
		{"valid", func(*eventstore.DynamoDBConfig) {}, nil},
		{"valid at the largest inline bound", func(c *eventstore.DynamoDBConfig) { c.InlineSnapshotMaxBytes = 350 << 10 }, nil},
		{"empty", func(c *eventstore.DynamoDBConfig) { *c = eventstore.DynamoDBConfig{} },
			[]string{"dynamodb client", "s3 client", "table names", "bucket"}},
		{"one table missing", func(c *eventstore.DynamoDBConfig) { c.Tables.Snapshots = "" }, []string{"table names"}},
		{"entities table missing", func(c *eventstore.DynamoDBConfig) { c.Tables.Entities = "" }, []string{"table names"}},
		{"valid with a call timeout", func(c *eventstore.DynamoDBConfig) { c.CallTimeout = time.Millisecond }, nil},
		{"negative call timeout", func(c *eventstore.DynamoDBConfig) { c.CallTimeout = -time.Second }, []string{"call timeout"}},
		{"inline bound over the item limit", func(c *eventstore.DynamoDBConfig) { c.InlineSnapshotMaxBytes = 400 << 10 },
			[]string{"inline snapshot bound"}},
		{"negative inline bound", func(c *eventstore.DynamoDBConfig) { c.InlineSnapshotMaxBytes = -1 }, []string{"inline snapshot bound"}},
		{"negative page size", func(c *eventstore.DynamoDBConfig) { c.LoadPageSize = -1 }, []string{"page size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tt.change(&cfg)
			store, err := eventstore.NewDynamoDB(cfg)
			if len(tt.want) == 0 {
				if err != nil || store == nil {
					t.Fatalf("NewDynamoDB = %v, %v; want a store", store, err)
				}
				return
			}
			if err == nil || store != nil {
				t.Fatalf("NewDynamoDB = %v, %v; want an error", store, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if verr := cfg.Validate(); verr == nil {
				t.Error("Validate accepted a config NewDynamoDB refused")
			}
		})
	}
}
