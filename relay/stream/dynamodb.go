package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// MaxPageRecords is the most records one GetRecords call returns (the API's limit).
const MaxPageRecords = 1000

// DynamoDB is the Source of DynamoDB Streams.
type DynamoDB struct {
	tables  *dynamodb.Client
	streams *dynamodbstreams.Client
}

// NewDynamoDB returns the Source reading through streams, finding a table's stream through tables.
func NewDynamoDB(tables *dynamodb.Client, streams *dynamodbstreams.Client) *DynamoDB {
	return &DynamoDB{tables: tables, streams: streams}
}

// StreamARN returns the table's latest stream ARN.
func (d *DynamoDB) StreamARN(ctx context.Context, table string) (string, error) {
	out, err := d.tables.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		var nf *ddbtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", fmt.Errorf("describe table %s: %w", table, ErrNotFound)
		}
		return "", fmt.Errorf("describe table %s: %w", table, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		return "", fmt.Errorf("table %s has no stream: %w", table, ErrNotFound)
	}
	return arn, nil
}

// Shards pages through DescribeStream and returns every shard.
func (d *DynamoDB) Shards(ctx context.Context, streamARN string) ([]Shard, error) {
	var (
		shards []Shard
		start  *string
	)
	for {
		out, err := d.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{
			StreamArn: aws.String(streamARN), ExclusiveStartShardId: start,
		})
		if err != nil {
			return nil, fmt.Errorf("describe stream %s: %w", streamARN, classify(err))
		}
		for _, s := range out.StreamDescription.Shards {
			shards = append(shards, Shard{
				ID:       aws.ToString(s.ShardId),
				ParentID: aws.ToString(s.ParentShardId),
				Closed:   s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil,
			})
		}
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return shards, nil
		}
	}
}

// Iterator returns an AFTER_SEQUENCE_NUMBER iterator, or a TRIM_HORIZON one when after is empty.
func (d *DynamoDB) Iterator(ctx context.Context, streamARN, shardID, after string) (string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(streamARN), ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	}
	if after != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = aws.String(after)
	}
	out, err := d.streams.GetShardIterator(ctx, in)
	if err != nil {
		return "", fmt.Errorf("get iterator of shard %s after %q: %w", shardID, after, classify(err))
	}
	return aws.ToString(out.ShardIterator), nil
}

// Records reads one page of at most MaxPageRecords records.
func (d *DynamoDB) Records(ctx context.Context, iterator string) (Page, error) {
	out, err := d.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
		ShardIterator: aws.String(iterator), Limit: aws.Int32(MaxPageRecords),
	})
	if err != nil {
		return Page{}, fmt.Errorf("get records: %w", classify(err))
	}
	page := Page{Next: aws.ToString(out.NextShardIterator), Records: make([]Record, 0, len(out.Records))}
	for _, r := range out.Records {
		if r.Dynamodb == nil {
			return Page{}, fmt.Errorf("get records: record %s has no change data", aws.ToString(r.EventID))
		}
		image, err := attributevalue.FromDynamoDBStreamsMap(r.Dynamodb.NewImage)
		if err != nil {
			return Page{}, fmt.Errorf("get records: convert image of %s: %w", aws.ToString(r.Dynamodb.SequenceNumber), err)
		}
		page.Records = append(page.Records, Record{
			SequenceNumber:      aws.ToString(r.Dynamodb.SequenceNumber),
			ApproximateCreation: aws.ToTime(r.Dynamodb.ApproximateCreationDateTime),
			Insert:              r.EventName == types.OperationTypeInsert,
			NewImage:            image,
		})
	}
	return page, nil
}

// classify wraps the stream API's typed errors with this package's sentinels, keeping the original.
func classify(err error) error {
	var (
		expired   *types.ExpiredIteratorException
		trimmed   *types.TrimmedDataAccessException
		limit     *types.LimitExceededException
		notFound  *types.ResourceNotFoundException
		throttled interface{ ErrorCode() string }
	)
	switch {
	case errors.As(err, &expired):
		return errors.Join(ErrExpiredIterator, err)
	case errors.As(err, &trimmed):
		return errors.Join(ErrTrimmed, err)
	case errors.As(err, &limit):
		return errors.Join(ErrThrottled, err)
	case errors.As(err, &notFound):
		return errors.Join(ErrNotFound, err)
	case errors.As(err, &throttled) && throttled.ErrorCode() == "ThrottlingException":
		return errors.Join(ErrThrottled, err)
	}
	return err
}
