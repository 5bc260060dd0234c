// Package lease keeps the relay's shard leases and checkpoints in a DynamoDB table, keyed by stream ARN and
// shard id, so that several relay instances share a stream's shards and a dead instance's shards are taken
// over once its leases expire.
//
// Every write is conditional on the lease's counter as last read: taking a lease increments it, so an instance
// whose lease was taken finds out at its next renewal or checkpoint (ErrLost) and stops that shard's reader
// before it checkpoints anything.
package lease

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
)

// ErrLost means the lease is no longer this owner's: another instance took it.
var ErrLost = errors.New("lease: lost to another owner")

// The lease item's attributes.
const (
	attrStream     = "stream_arn"
	attrShard      = "shard_id"
	attrOwner      = "owner"
	attrExpires    = "expires_at_ms"
	attrCounter    = "counter"
	attrCheckpoint = "checkpoint"
	attrFinished   = "finished"
	attrParent     = "parent_shard_id"
)

// Lease is one shard's lease as last read or written.
type Lease struct {
	StreamARN string
	ShardID   string
	ParentID  string
	// Owner holds the lease until Expires; empty when released.
	Owner   string
	Expires time.Time
	// Counter increments each time the lease changes hands; writes are conditional on it.
	Counter int64
	// Checkpoint is the sequence number of the last record relayed and acknowledged; empty for none.
	Checkpoint string
	// Finished is set once the shard is closed and read to its end: its children may be read.
	Finished bool
}

// Held reports whether an owner holds the lease at now.
func (l Lease) Held(now time.Time) bool { return l.Owner != "" && now.Before(l.Expires) }

// Table is the lease table. It is safe for concurrent use.
type Table struct {
	db   *dynamodb.Client
	name string
	now  func() time.Time
}

// NewTable returns the lease table name read and written through db; now is the clock (nil: time.Now).
func NewTable(db *dynamodb.Client, name string, now func() time.Time) *Table {
	if now == nil {
		now = time.Now
	}
	return &Table{db: db, name: name, now: now}
}

// Name returns the table's name.
func (t *Table) Name() string { return t.name }

// Create makes the table when it does not exist (on demand, stream ARN hash key, shard id range key) and
// waits until it is active.
func (t *Table) Create(ctx context.Context) error {
	err := awsclient.EnsureTables(ctx, t.db, dynamodb.CreateTableInput{
		TableName: aws.String(t.name),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrStream), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrShard), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrStream), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrShard), AttributeType: types.ScalarAttributeTypeS},
		},
	})
	if err != nil {
		return fmt.Errorf("lease table: %w", err)
	}
	return nil
}

// List returns every lease of the stream, strongly consistent.
func (t *Table) List(ctx context.Context, streamARN string) ([]Lease, error) {
	var leases []Lease
	pages := dynamodb.NewQueryPaginator(t.db, &dynamodb.QueryInput{
		TableName:                 aws.String(t.name),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": attrStream},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(streamARN)},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list leases of %s: %w", streamARN, err)
		}
		for _, item := range page.Items {
			l, err := fromItem(item)
			if err != nil {
				return nil, err
			}
			leases = append(leases, l)
		}
	}
	return leases, nil
}

// Take makes owner the holder of the shard's lease for ttl. seen is the lease as last listed, nil when the
// shard had none: the take succeeds only when the lease has not changed hands since and the shard is not
// finished (ErrLost otherwise). It returns the lease now held, with its checkpoint.
func (t *Table) Take(ctx context.Context, streamARN, shardID, parentID, owner string, ttl time.Duration, seen *Lease) (Lease, error) {
	cond := "attribute_not_exists(#shard)"
	names := map[string]string{"#owner": attrOwner, "#exp": attrExpires, "#counter": attrCounter, "#parent": attrParent}
	values := map[string]types.AttributeValue{
		":owner": str(owner), ":exp": num(t.now().Add(ttl).UnixMilli()), ":one": num(1), ":zero": num(0),
		":parent": str(parentID),
	}
	if seen != nil {
		// Never a finished shard's: a listing older than the shard's last checkpoint would start a reader on a
		// shard that is done.
		cond = "#counter = :seen AND (attribute_not_exists(#fin) OR #fin = :false)"
		names["#fin"] = attrFinished
		values[":seen"] = num(seen.Counter)
		values[":false"] = &types.AttributeValueMemberBOOL{Value: false}
	} else {
		names["#shard"] = attrShard
	}
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name),
		Key:       key(streamARN, shardID),
		UpdateExpression: aws.String("SET #owner = :owner, #exp = :exp, " +
			"#counter = if_not_exists(#counter, :zero) + :one, #parent = :parent"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return Lease{}, t.writeError("take", shardID, err)
	}
	return fromItem(out.Attributes)
}

// Renew extends the held lease by ttl from now and returns it; ErrLost when it changed hands.
func (t *Table) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	return t.update(ctx, "renew", l, "SET #exp = :exp", nil, map[string]types.AttributeValue{
		":exp": num(t.now().Add(ttl).UnixMilli()),
	})
}

// Checkpoint records seq as relayed (and the shard as finished when it is read to its end), extending the lease
// by ttl; ErrLost when it changed hands, in which case nothing is written.
func (t *Table) Checkpoint(ctx context.Context, l Lease, seq string, finished bool, ttl time.Duration) (Lease, error) {
	values := map[string]types.AttributeValue{
		":exp": num(t.now().Add(ttl).UnixMilli()), ":fin": &types.AttributeValueMemberBOOL{Value: finished},
	}
	names := map[string]string{"#fin": attrFinished}
	expr := "SET #exp = :exp, #fin = :fin"
	if seq != "" {
		expr += ", #cp = :cp"
		names["#cp"] = attrCheckpoint
		values[":cp"] = str(seq)
	}
	return t.update(ctx, "checkpoint", l, expr, names, values)
}

// Release gives the lease up at once (owner cleared, expired), so another instance can take it without
// waiting for it to expire; ErrLost when it had already changed hands.
func (t *Table) Release(ctx context.Context, l Lease) error {
	_, err := t.update(ctx, "release", l, "SET #owner = :none, #exp = :zero", nil, map[string]types.AttributeValue{
		":none": str(""), ":zero": num(0),
	})
	return err
}

// Delete removes a lease unless it changed since l was read (ErrLost then): for finished shards that left the
// stream, whose leases would otherwise pile up as DynamoDB rolls shards over every few hours.
func (t *Table) Delete(ctx context.Context, l Lease) error {
	_, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(t.name),
		Key:                       key(l.StreamARN, l.ShardID),
		ConditionExpression:       aws.String("#counter = :counter"),
		ExpressionAttributeNames:  map[string]string{"#counter": attrCounter},
		ExpressionAttributeValues: map[string]types.AttributeValue{":counter": num(l.Counter)},
	})
	if err != nil {
		return t.writeError("delete", l.ShardID, err)
	}
	return nil
}

// update applies expr (with its extra attribute names) to the lease on condition that owner and counter are
// still l's.
func (t *Table) update(ctx context.Context, op string, l Lease, expr string, names map[string]string,
	values map[string]types.AttributeValue,
) (Lease, error) {
	if names == nil {
		names = map[string]string{}
	}
	names["#owner"], names["#exp"], names["#counter"] = attrOwner, attrExpires, attrCounter
	values[":me"] = str(l.Owner)
	values[":counter"] = num(l.Counter)
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(t.name),
		Key:                       key(l.StreamARN, l.ShardID),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#owner = :me AND #counter = :counter"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return Lease{}, t.writeError(op, l.ShardID, err)
	}
	return fromItem(out.Attributes)
}

func (t *Table) writeError(op, shardID string, err error) error {
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return fmt.Errorf("%s lease of shard %s: %w", op, shardID, ErrLost)
	}
	return fmt.Errorf("%s lease of shard %s: %w", op, shardID, err)
}

func key(streamARN, shardID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrStream: str(streamARN), attrShard: str(shardID)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// fromItem decodes a lease item; attributes other than the keys are optional.
func fromItem(item map[string]types.AttributeValue) (Lease, error) {
	var l Lease
	strs := map[string]*string{
		attrStream: &l.StreamARN, attrShard: &l.ShardID, attrParent: &l.ParentID, attrOwner: &l.Owner,
		attrCheckpoint: &l.Checkpoint,
	}
	for name, dst := range strs {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			*dst = v.Value
		}
	}
	if l.StreamARN == "" || l.ShardID == "" {
		return Lease{}, errors.New("lease item without stream ARN or shard id")
	}
	var expires int64
	for name, dst := range map[string]*int64{attrExpires: &expires, attrCounter: &l.Counter} {
		v, ok := item[name].(*types.AttributeValueMemberN)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return Lease{}, fmt.Errorf("lease of shard %s: attribute %s: %w", l.ShardID, name, err)
		}
		*dst = n
	}
	l.Expires = time.UnixMilli(expires)
	if v, ok := item[attrFinished].(*types.AttributeValueMemberBOOL); ok {
		l.Finished = v.Value
	}
	return l, nil
}
