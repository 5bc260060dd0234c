package eventstore

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultInlineSnapshotMaxBytes is the largest snapshot state kept inline in the snapshots table (64 KiB);
// larger state goes to S3.
const DefaultInlineSnapshotMaxBytes = 64 << 10

// maxInlineSnapshotBytes keeps an inline snapshot item well under DynamoDB's 400 KB item limit.
const maxInlineSnapshotBytes = 350 << 10

// DefaultCallTimeout bounds each DynamoDB and S3 call of a store whose CallTimeout is not set.
const DefaultCallTimeout = 5 * time.Second

// Tables names the four DynamoDB tables of the store.
type Tables struct {
	// Journal holds the events: aid (S) hash key, seq (N) range key, stream with new images.
	Journal string
	// Snapshots holds one snapshot pointer per aggregate: aid (S) hash key.
	Snapshots string
	// Idempotency holds recorded command responses: key (S) hash key, TTL on expires_at.
	Idempotency string
	// Entities holds small records of their own written with the events (a room's messages): key (S) hash key.
	Entities string
}

// TablesWithPrefix returns the tables <prefix>-journal, <prefix>-snapshots, <prefix>-idempotency and
// <prefix>-entities.
func TablesWithPrefix(prefix string) Tables {
	return Tables{
		Journal: prefix + "-journal", Snapshots: prefix + "-snapshots", Idempotency: prefix + "-idempotency",
		Entities: prefix + "-entities",
	}
}

// Names returns every table name (journal, snapshots, idempotency, entities), for cleanups; it cannot fail.
func (t Tables) Names() []string {
	return []string{t.Journal, t.Snapshots, t.Idempotency, t.Entities}
}

// DynamoDBConfig configures a DynamoDB store; zero fields take the defaults noted.
type DynamoDBConfig struct {
	// DynamoDB is the client for the four tables (required).
	DynamoDB *dynamodb.Client
	// S3 is the client for snapshots larger than InlineSnapshotMaxBytes (required).
	S3 *s3.Client
	// Tables names the journal, snapshot, idempotency and entity tables (all required).
	Tables Tables
	// Bucket is the S3 bucket of large snapshots (required).
	Bucket string
	// InlineSnapshotMaxBytes is the largest state stored inline (default DefaultInlineSnapshotMaxBytes, at most
	// 350 KiB); larger state goes to S3.
	InlineSnapshotMaxBytes int
	// LoadPageSize caps the items of one Query page when loading (default 0: DynamoDB's 1 MB pages); tests set
	// it to exercise pagination.
	LoadPageSize int32
	// CallTimeout bounds each DynamoDB and S3 call (default DefaultCallTimeout): a call ends at the earlier of
	// its caller's deadline and this timeout, and one cut short by it fails with ErrUnavailable.
	CallTimeout time.Duration
	// Now is the clock for idempotency expiry (default time.Now).
	Now func() time.Time
}

func (c *DynamoDBConfig) applyDefaults() {
	if c.InlineSnapshotMaxBytes == 0 {
		c.InlineSnapshotMaxBytes = DefaultInlineSnapshotMaxBytes
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate returns every problem of the configuration joined, or nil.
func (c DynamoDBConfig) Validate() error {
	var errs []error
	if c.DynamoDB == nil {
		errs = append(errs, errors.New("dynamodb client is required"))
	}
	if c.S3 == nil {
		errs = append(errs, errors.New("s3 client is required"))
	}
	if slices.Contains(c.Tables.Names(), "") {
		errs = append(errs, errors.New("journal, snapshots, idempotency and entities table names are required"))
	}
	if c.Bucket == "" {
		errs = append(errs, errors.New("snapshot bucket is required"))
	}
	if c.InlineSnapshotMaxBytes < 0 || c.InlineSnapshotMaxBytes > maxInlineSnapshotBytes {
		errs = append(errs, fmt.Errorf("inline snapshot bound %d is outside 0..%d bytes",
			c.InlineSnapshotMaxBytes, maxInlineSnapshotBytes))
	}
	if c.CallTimeout < 0 {
		errs = append(errs, fmt.Errorf("call timeout %v is negative", c.CallTimeout))
	}
	if c.LoadPageSize < 0 {
		errs = append(errs, fmt.Errorf("load page size %d is negative", c.LoadPageSize))
	}
	return errors.Join(errs...)
}
