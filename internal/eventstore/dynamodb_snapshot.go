package eventstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// The snapshot pointer item: one per aggregate, the newest wins.
const (
	attrSnapAggregateID = "aid"
	attrSnapSeq         = "seq"
	// attrSnapState holds state of at most InlineSnapshotMaxBytes (B).
	attrSnapState = "state"
	// attrSnapS3Key holds the S3 object key of larger state (S).
	attrSnapS3Key = "s3_key"
)

// snapshotKeyPrefix starts every snapshot object key, so that a lifecycle rule can target them.
const snapshotKeyPrefix = "snapshots/"

var condSnapshotOlder = aws.String("attribute_not_exists(" + attrSnapAggregateID + ") OR " + attrSnapSeq + " < :s")

// snapshotKey returns a new, never reused object key for aggregateID's state at seq:
// snapshots/<aggregate id>/<seq, 20 digits>-<16 random hex digits>.
func snapshotKey(aggregateID string, seq int64) string {
	var suffix [8]byte
	_, _ = rand.Read(suffix[:]) // crypto/rand.Read never fails
	return fmt.Sprintf("%s%s/%020d-%s", snapshotKeyPrefix, aggregateID, seq, hex.EncodeToString(suffix[:]))
}

// snapshotKeyLen is the length of every snapshotKey of aggregateID.
func snapshotKeyLen(aggregateID string) int {
	return len(snapshotKeyPrefix) + len(aggregateID) + len("/") + 20 + len("-") + 16
}

// snapshotPut returns the Put of s's pointer item; state over the inline bound is first written to S3 under a
// fresh key, so that a retried append never collides with the object of a failed one.
func (d *DynamoDB) snapshotPut(ctx context.Context, s *Snapshot) (*types.Put, error) {
	seq := &types.AttributeValueMemberN{Value: strconv.FormatInt(s.Seq, 10)}
	item := map[string]types.AttributeValue{
		attrSnapAggregateID: &types.AttributeValueMemberS{Value: s.AggregateID},
		attrSnapSeq:         seq,
	}
	if len(s.State) <= d.cfg.InlineSnapshotMaxBytes {
		item[attrSnapState] = &types.AttributeValueMemberB{Value: s.State}
	} else {
		key := snapshotKey(s.AggregateID, s.Seq)
		_, err := send(ctx, d.cfg.CallTimeout, d.s3.PutObject, &s3.PutObjectInput{
			Bucket:        d.bucket,
			Key:           aws.String(key),
			Body:          bytes.NewReader(s.State),
			ContentLength: aws.Int64(int64(len(s.State))),
			ContentType:   aws.String("application/octet-stream"),
			IfNoneMatch:   aws.String("*"),
		})
		if err != nil {
			return nil, storeError(ctx, fmt.Sprintf("put snapshot of %s at seq %d to s3", s.AggregateID, s.Seq), err)
		}
		item[attrSnapS3Key] = &types.AttributeValueMemberS{Value: key}
	}
	return &types.Put{
		TableName:                 d.tables.snapshots,
		Item:                      item,
		ConditionExpression:       condSnapshotOlder,
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": seq},
	}, nil
}

// SaveSnapshot implements Store with the pointer's Put outside a transaction, guarded like an append's: a
// pointer at s.Seq or newer fails the condition, and the state written to S3 for it, if any, is an orphan
// that the bucket's lifecycle rule expires.
func (d *DynamoDB) SaveSnapshot(ctx context.Context, s Snapshot) error {
	if err := checkSnapshot(s); err != nil {
		return err
	}
	put, err := d.snapshotPut(ctx, &s)
	if err != nil {
		return err
	}
	_, err = send(ctx, d.cfg.CallTimeout, d.db.PutItem, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item,
		ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: put.ExpressionAttributeValues,
	})
	var newer *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &newer) {
		return storeError(ctx, fmt.Sprintf("save snapshot of %s at seq %d", s.AggregateID, s.Seq), err)
	}
	return nil
}

// LatestSnapshot implements Store: a consistent read of the pointer item and, for large state, the S3 object.
// A pointer whose object is gone (removed by a lifecycle rule) reads as no snapshot: the aggregate is then
// replayed from its first event, which is always correct.
func (d *DynamoDB) LatestSnapshot(ctx context.Context, aggregateID string) (*Snapshot, error) {
	if aggregateID == "" {
		return nil, nil
	}
	op := "load snapshot of " + aggregateID
	item, err := d.getItem(ctx, op, d.tables.snapshots, attrSnapAggregateID, aggregateID)
	if err != nil || item == nil {
		return nil, err
	}
	seq, err := intAttr(item, attrSnapSeq)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	snap := &Snapshot{AggregateID: aggregateID, Seq: seq}
	switch v := item[attrSnapState].(type) {
	case *types.AttributeValueMemberB:
		snap.State = v.Value
		return snap, nil
	case nil:
	default:
		return nil, fmt.Errorf("%s: %w", op, malformed(attrSnapState, "not binary"))
	}
	key, err := stringAttr(item, attrSnapS3Key, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	snap.State, err = bounded(ctx, d.cfg.CallTimeout, func(ctx context.Context) ([]byte, error) {
		return d.readObject(ctx, key)
	})
	switch {
	case errors.Is(err, errObjectGone):
		return nil, nil
	case err != nil:
		return nil, storeError(ctx, fmt.Sprintf("%s at seq %d from s3", op, seq), err)
	}
	return snap, nil
}

var errObjectGone = errors.New("object is gone")

// readObject returns the object under key, read whole under ctx, which must bound the body's read as well as
// the request; errObjectGone when there is no such object.
func (d *DynamoDB) readObject(ctx context.Context, key string) ([]byte, error) {
	obj, err := d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: d.bucket, Key: aws.String(key)})
	if err != nil {
		var noKey *s3types.NoSuchKey
		var api smithy.APIError
		if errors.As(err, &noKey) || errors.As(err, &api) && api.ErrorCode() == "NoSuchKey" {
			return nil, errObjectGone
		}
		return nil, err
	}
	defer obj.Body.Close()
	buf := bytes.NewBuffer(make([]byte, 0, max(aws.ToInt64(obj.ContentLength), 0)))
	if _, err := io.Copy(buf, obj.Body); err != nil {
		return nil, fmt.Errorf("read object %s: %w", key, err)
	}
	return buf.Bytes(), nil
}
