// Package stream is the relay's access to a table's change stream: its shards with their lineage, iterators
// and pages of records. Source is small on purpose, so that tests can stand in for what the local DynamoDB API
// server never does (shard splits, expired iterators, trimmed data, throttling).
package stream

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Errors a Source returns, wrapped, for the conditions a reader handles.
var (
	// ErrExpiredIterator means the iterator is older than its 15 minutes of validity: get a new one.
	ErrExpiredIterator = errors.New("stream: shard iterator expired")
	// ErrTrimmed means the records asked for are older than the stream's retention (24 h) and gone.
	ErrTrimmed = errors.New("stream: records trimmed from the stream")
	// ErrThrottled means the request was refused for its rate: retry after a while.
	ErrThrottled = errors.New("stream: throttled")
	// ErrNotFound means the table, stream or shard does not exist (yet).
	ErrNotFound = errors.New("stream: not found")
)

// Shard is one shard of a stream, with its parent (empty for a root shard) and whether it is closed (no
// record will be added to it; once read to its end its children carry on).
type Shard struct {
	ID       string
	ParentID string
	Closed   bool
}

// Record is one change record: its position in the shard, when it was approximately written, whether it is
// an insert, and the item's new image.
type Record struct {
	SequenceNumber string
	// ApproximateCreation is the time the change was written to the stream (second precision on AWS).
	ApproximateCreation time.Time
	// Insert is true for a new item; the journal is append-only, so other changes are foreign to it.
	Insert   bool
	NewImage map[string]types.AttributeValue
}

// Page is one GetRecords answer: the records, in shard order, and the iterator of the next page, empty when
// the shard is closed and read to its end.
type Page struct {
	Records []Record
	Next    string
}

// Source reads a table's stream. Implementations are safe for concurrent use.
type Source interface {
	// StreamARN returns the table's latest stream; ErrNotFound when the table or its stream does not exist.
	StreamARN(ctx context.Context, table string) (string, error)
	// Shards returns every shard of the stream (all pages of the description).
	Shards(ctx context.Context, streamARN string) ([]Shard, error)
	// Iterator returns an iterator at the first record after the sequence number after, or at the oldest
	// record kept when after is empty; ErrTrimmed when after is older than the retention.
	Iterator(ctx context.Context, streamARN, shardID, after string) (string, error)
	// Records returns the page at iterator; ErrExpiredIterator, ErrTrimmed or ErrThrottled as they occur.
	Records(ctx context.Context, iterator string) (Page, error)
}
