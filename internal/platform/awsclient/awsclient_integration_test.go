package awsclient_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// journalTable is the shape of the event journal: aid + seq, stream with new images.
func journalTable() dynamodb.CreateTableInput {
	return dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("aid"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("seq"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("aid"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("seq"), KeyType: types.KeyTypeRange},
		},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage,
		},
	}
}

// appendEvents writes events seq from..to of aggregate aid in one transaction, each guarded by
// attribute_not_exists so a second writer of the same seq fails.
func appendEvents(ctx context.Context, db *dynamodb.Client, table, aid string, from, to int) error {
	var items []types.TransactWriteItem
	for seq := from; seq <= to; seq++ {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(table),
			Item: map[string]types.AttributeValue{
				"aid":  &types.AttributeValueMemberS{Value: aid},
				"seq":  &types.AttributeValueMemberN{Value: strconv.Itoa(seq)},
				"type": &types.AttributeValueMemberS{Value: "RoomCreated"},
			},
			ConditionExpression: aws.String("attribute_not_exists(aid)"),
		}})
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// TestJournalTransactionsAndStream creates a journal table with a stream, appends in transactions, checks that a
// conflicting append fails with a typed cancellation naming the failed condition, and reads the committed
// events back through the DynamoDB Streams API.
func TestJournalTransactionsAndStream(t *testing.T) {
	t.Parallel()
	cl := testkit.AWS(t)
	table := testkit.DynamoDBTable(t, journalTable())
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	if err := appendEvents(ctx, cl.DynamoDB, table, "room-1", 1, 2); err != nil {
		t.Fatalf("first append: %v", err)
	}
	err := appendEvents(ctx, cl.DynamoDB, table, "room-1", 2, 3)
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		t.Fatalf("conflicting append: got %v, want a TransactionCanceledException", err)
	}
	codes := make([]string, 0, len(canceled.CancellationReasons))
	for _, r := range canceled.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if len(codes) != 2 || codes[0] != "ConditionalCheckFailed" {
		t.Errorf("cancellation reasons = %v, want [ConditionalCheckFailed None]", codes)
	}

	desc, err := cl.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("describe table: %v", err)
	}
	streamARN := aws.ToString(desc.Table.LatestStreamArn)
	if streamARN == "" {
		t.Fatal("table has no stream ARN")
	}
	records := readStream(ctx, t, cl.Streams, streamARN, 2)
	var got []string
	for _, r := range records {
		img := r.Dynamodb.NewImage
		got = append(got, img["aid"].(*streamtypes.AttributeValueMemberS).Value+"/"+
			img["seq"].(*streamtypes.AttributeValueMemberN).Value)
	}
	if strings.Join(got, ",") != "room-1/1,room-1/2" {
		t.Errorf("stream records = %v, want the two committed events in order (the failed transaction wrote none)", got)
	}
}

// readStream reads every shard from its trim horizon until want records arrived or ctx ends.
func readStream(ctx context.Context, t *testing.T, st *dynamodbstreams.Client, arn string, want int) []streamtypes.Record {
	t.Helper()
	stream, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("describe stream: %v", err)
	}
	var records []streamtypes.Record
	for _, shard := range stream.StreamDescription.Shards {
		it, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(arn), ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("shard iterator: %v", err)
		}
		iter := it.ShardIterator
		for iter != nil && len(records) < want && ctx.Err() == nil {
			out, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("get records: %v", err)
			}
			records = append(records, out.Records...)
			iter = out.NextShardIterator
		}
	}
	if len(records) < want {
		t.Fatalf("read %d stream records before the deadline, want %d", len(records), want)
	}
	return records
}

// TestS3ConditionalPut checks that If-None-Match: * makes a second write of the same key fail with 412, the
// property the snapshot store relies on for immutable keys.
func TestS3ConditionalPut(t *testing.T) {
	t.Parallel()
	cl := testkit.AWS(t).S3
	bucket := testkit.S3Bucket(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	put := func(body string) error {
		_, err := cl.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("snapshots/room-1/00000042"),
			Body: strings.NewReader(body), IfNoneMatch: aws.String("*"),
		})
		return err
	}
	if err := put("first"); err != nil {
		t.Fatalf("first put: %v", err)
	}
	err := put("second")
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "PreconditionFailed" {
		t.Fatalf("second put: got %v, want PreconditionFailed (412)", err)
	}

	obj, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("snapshots/room-1/00000042")})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if string(body) != "first" {
		t.Errorf("object body = %q, want the first write kept", body)
	}
}
