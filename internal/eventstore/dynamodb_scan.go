package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// ScanJournal calls fn with every event of the journal, in no particular order, for one-off maintenance such as
// backfills: a strongly consistent parallel Scan of segments parts of the table, each followed page by page. fn
// is called from segments goroutines at once. It returns the first error of a page (ErrUnavailable wrapped when
// the store cannot be reached) or of fn, after which the other segments stop.
func (d *DynamoDB) ScanJournal(ctx context.Context, segments int, fn func(Record) error) error {
	if segments < 1 {
		return fmt.Errorf("scan journal: %d segments: %w", segments, ErrInvalidAppend)
	}
	g, ctx := errgroup.WithContext(ctx)
	for seg := range segments {
		g.Go(func() error {
			in := &dynamodb.ScanInput{
				TableName: d.tables.journal, ConsistentRead: aws.Bool(true),
				Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(segments)),
			}
			for {
				page, err := send(ctx, d.cfg.CallTimeout, d.db.Scan, in)
				if err != nil {
					return storeError(ctx, fmt.Sprintf("scan journal segment %d of %d", seg, segments), err)
				}
				for _, item := range page.Items {
					rec, err := RecordFromItem(item)
					if err != nil {
						return fmt.Errorf("scan journal segment %d: %w", seg, err)
					}
					if err := fn(rec); err != nil {
						return err
					}
				}
				if len(page.LastEvaluatedKey) == 0 {
					return nil
				}
				in.ExclusiveStartKey = page.LastEvaluatedKey
			}
		})
	}
	return g.Wait()
}

// WriteEntity applies one entity write outside any append (one UpdateItem), for backfills of entities derived
// from events already in the journal. It returns ErrInvalidAppend (wrapped) for a malformed write,
// ErrEntityExists when e.Create and the key is taken, and ErrUnavailable when the store cannot be reached.
func (d *DynamoDB) WriteEntity(ctx context.Context, e EntityWrite) error {
	if err := validateEntities([]EntityWrite{e}); err != nil {
		return fmt.Errorf("write entity: %w: %w", ErrInvalidAppend, err)
	}
	u := d.entityUpdate(&e)
	op := fmt.Sprintf("write entity %q", e.Key)
	_, err := send(ctx, d.cfg.CallTimeout, d.db.UpdateItem, &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
	})
	var exists *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &exists):
		return fmt.Errorf("%s: %w", op, ErrEntityExists)
	case err != nil:
		return storeError(ctx, op, err)
	}
	return nil
}
