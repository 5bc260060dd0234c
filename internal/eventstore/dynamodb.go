package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Expressions shared by every request; the SDK only reads them.
var (
	condEventAbsent  = aws.String("attribute_not_exists(" + AttrAggregateID + ")")
	condEventPresent = aws.String("attribute_exists(" + AttrAggregateID + ")")
	keyCondAfterSeq  = aws.String(AttrAggregateID + " = :a AND " + AttrSeq + " > :s")
)

// DynamoDB is the Store on DynamoDB (journal, snapshot pointers, idempotency records, entities) and S3 (large
// snapshots). Each of its DynamoDB and S3 calls ends after the config's CallTimeout at the latest. It is safe for
// concurrent use.
type DynamoDB struct {
	db     *dynamodb.Client
	s3     *s3.Client
	cfg    DynamoDBConfig
	tables struct{ journal, snapshots, idempotency, entities *string }
	bucket *string
}

var _ Store = (*DynamoDB)(nil)

// NewDynamoDB returns a store on cfg's clients and tables; it fails when cfg is invalid. It does not create the
// tables (see CreateTables) nor contact the servers.
func NewDynamoDB(cfg DynamoDBConfig) (*DynamoDB, error) {
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("eventstore dynamodb config: %w", err)
	}
	d := &DynamoDB{db: cfg.DynamoDB, s3: cfg.S3, cfg: cfg, bucket: aws.String(cfg.Bucket)}
	d.tables.journal = aws.String(cfg.Tables.Journal)
	d.tables.snapshots = aws.String(cfg.Tables.Snapshots)
	d.tables.idempotency = aws.String(cfg.Tables.Idempotency)
	d.tables.entities = aws.String(cfg.Tables.Entities)
	return d, nil
}

// Append implements Store with one TransactWriteItems: a Put of each event guarded by attribute_not_exists(aid),
// a ConditionCheck that event ExpectedSeq exists (so the journal never gets a gap), the snapshot pointer (its
// state first written to S3 when over the inline bound), an Update of each entity and the idempotency record,
// in this order (appendError reads the cancellation reasons by position).
func (d *DynamoDB) Append(ctx context.Context, req AppendRequest) error {
	if err := checkAppend(req, d.cfg.InlineSnapshotMaxBytes); err != nil {
		return err
	}
	items := make([]types.TransactWriteItem, 0, transactionItems(req))
	for i := range req.Events {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: d.tables.journal, Item: JournalItem(req.Events[i]), ConditionExpression: condEventAbsent,
		}})
	}
	if req.ExpectedSeq > 0 {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: d.tables.journal, Key: journalKey(req.AggregateID, req.ExpectedSeq),
			ConditionExpression: condEventPresent,
		}})
	}
	if req.Snapshot != nil {
		put, err := d.snapshotPut(ctx, req.Snapshot)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: put})
	}
	for i := range req.Entities {
		items = append(items, types.TransactWriteItem{Update: d.entityUpdate(&req.Entities[i])})
	}
	if req.Idempotency != nil {
		items = append(items, types.TransactWriteItem{Put: d.idempotencyPut(req.Idempotency)})
	}
	_, err := send(ctx, d.cfg.CallTimeout, d.db.TransactWriteItems, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		return d.appendError(ctx, req, err)
	}
	return nil
}

// appendError turns a failed transaction into the Store's errors, reading the cancellation reasons, which come
// in the order of the items: events, the ExpectedSeq check, the snapshot, the entities, the idempotency record.
// A live idempotency key wins over everything: the command was already done, so a retry would only find it
// again. An entity that exists wins over a conflict: a retry after reloading would find it again too.
func (d *DynamoDB) appendError(ctx context.Context, req AppendRequest, err error) error {
	op := fmt.Sprintf("append %d events to %s after seq %d", len(req.Events), req.AggregateID, req.ExpectedSeq)
	var canceled *types.TransactionCanceledException
	if ctx.Err() != nil || !errors.As(err, &canceled) {
		return storeError(ctx, op, err)
	}
	idem, entities := -1, transactionItems(req)-len(req.Entities)
	if req.Idempotency != nil {
		idem = transactionItems(req) - 1
		entities--
	}
	var (
		conflict  *ConflictError
		keyExists bool
		existing  *EntityWrite
		throttled bool
		other     []string
	)
	for i, reason := range canceled.CancellationReasons {
		switch code := aws.ToString(reason.Code); code {
		case "", "None":
		case "ConditionalCheckFailed", "TransactionConflict":
			switch {
			case i == idem && code == "ConditionalCheckFailed":
				keyExists = true
			case i >= entities && i < entities+len(req.Entities) && code == "ConditionalCheckFailed":
				if existing == nil {
					existing = &req.Entities[i-entities]
				}
			case conflict != nil:
			case i < len(req.Events):
				conflict = &ConflictError{AggregateID: req.AggregateID, ExpectedSeq: req.ExpectedSeq, Seq: req.Events[i].Seq}
			case i == len(req.Events) && req.ExpectedSeq > 0:
				conflict = &ConflictError{AggregateID: req.AggregateID, ExpectedSeq: req.ExpectedSeq, Seq: req.ExpectedSeq}
			default:
				// The snapshot pointer is newer, or another transaction holds an entity or the idempotency
				// record: either way a retry after reloading resolves it.
				conflict = &ConflictError{AggregateID: req.AggregateID, ExpectedSeq: req.ExpectedSeq, Seq: req.ExpectedSeq + 1}
			}
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			throttled = true
		default:
			other = append(other, code)
		}
	}
	switch {
	case keyExists:
		return fmt.Errorf("%s: key %q: %w", op, req.Idempotency.Key, ErrIdempotencyKeyExists)
	case existing != nil:
		return fmt.Errorf("%s: entity %q: %w", op, existing.Key, ErrEntityExists)
	case conflict != nil:
		return conflict
	case throttled:
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	default:
		return fmt.Errorf("%s: transaction cancelled %v: %w", op, other, err)
	}
}

// Load implements Store with a strongly consistent Query, following LastEvaluatedKey to the end.
func (d *DynamoDB) Load(ctx context.Context, aggregateID string, afterSeq int64) ([]Record, error) {
	out, _, err := d.load(ctx, aggregateID, afterSeq, 0)
	return out, err
}

// LoadUpTo implements Store with a strongly consistent Query that stops after max+1 events.
func (d *DynamoDB) LoadUpTo(ctx context.Context, aggregateID string, afterSeq int64, max int) ([]Record, bool, error) {
	if max < 1 {
		return nil, false, fmt.Errorf("load %s: at most %d events: %w", aggregateID, max, ErrInvalidAppend)
	}
	return d.load(ctx, aggregateID, afterSeq, max)
}

// load reads the aggregate's events after afterSeq, all of them when max is 0, else at most max, reporting
// whether those are all there are (it reads one more to know).
func (d *DynamoDB) load(ctx context.Context, aggregateID string, afterSeq int64, max int) ([]Record, bool, error) {
	if aggregateID == "" {
		return nil, true, nil
	}
	in := &dynamodb.QueryInput{
		TableName:              d.tables.journal,
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: keyCondAfterSeq,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":a": &types.AttributeValueMemberS{Value: aggregateID},
			":s": &types.AttributeValueMemberN{Value: strconv.FormatInt(afterSeq, 10)},
		},
	}
	var out []Record
	for {
		in.Limit = nil
		if d.cfg.LoadPageSize > 0 {
			in.Limit = aws.Int32(d.cfg.LoadPageSize)
		}
		if max > 0 && (in.Limit == nil || int(*in.Limit) > max+1-len(out)) {
			in.Limit = aws.Int32(int32(max + 1 - len(out)))
		}
		page, err := send(ctx, d.cfg.CallTimeout, d.db.Query, in)
		if err != nil {
			return nil, false, storeError(ctx, fmt.Sprintf("load %s after seq %d", aggregateID, afterSeq), err)
		}
		out = slices.Grow(out, len(page.Items))
		for _, item := range page.Items {
			r, err := RecordFromItem(item)
			if err != nil {
				return nil, false, fmt.Errorf("load %s: journal item after seq %d: %w", aggregateID, lastSeq(out, afterSeq), err)
			}
			out = append(out, r)
		}
		switch {
		case max > 0 && len(out) > max:
			return out[:max], false, nil
		case len(page.LastEvaluatedKey) == 0:
			return out, true, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Event implements Store with a strongly consistent GetItem of the journal item.
func (d *DynamoDB) Event(ctx context.Context, aggregateID string, seq int64) (*Record, error) {
	if aggregateID == "" || seq < 1 {
		return nil, nil
	}
	op := fmt.Sprintf("load %s seq %d", aggregateID, seq)
	out, err := send(ctx, d.cfg.CallTimeout, d.db.GetItem, &dynamodb.GetItemInput{
		TableName: d.tables.journal, Key: journalKey(aggregateID, seq), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, storeError(ctx, op, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	r, err := RecordFromItem(out.Item)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return &r, nil
}

func lastSeq(rs []Record, otherwise int64) int64 {
	if len(rs) == 0 {
		return otherwise
	}
	return rs[len(rs)-1].Seq
}

func journalKey(aggregateID string, seq int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrAggregateID: &types.AttributeValueMemberS{Value: aggregateID},
		AttrSeq:         &types.AttributeValueMemberN{Value: strconv.FormatInt(seq, 10)},
	}
}

// getItem reads, strongly consistently, the item of table whose S hash key attr is key; it returns nil, nil when
// there is none, and the error of the call for op as storeError makes it.
func (d *DynamoDB) getItem(ctx context.Context, op string, table *string, attr, key string) (map[string]types.AttributeValue, error) {
	out, err := send(ctx, d.cfg.CallTimeout, d.db.GetItem, &dynamodb.GetItemInput{
		TableName: table, Key: hashKey(attr, key), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, storeError(ctx, op, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

func hashKey(attr, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attr: &types.AttributeValueMemberS{Value: key}}
}
