// Package moto_test checks the local stack's moto launcher (serialized_server.py) where it departs from plain moto:
// transactions back up only their own items, ClientRequestToken makes a repeated transaction a no-op, as in
// DynamoDB, and a Query on the table's key reads its partition only.
package moto_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

func journal(t *testing.T) string {
	t.Helper()
	return testkit.DynamoDBTable(t, dynamodb.CreateTableInput{
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("aid"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("seq"), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("aid"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("seq"), AttributeType: types.ScalarAttributeTypeN},
		},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	})
}

func key(aid, seq string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"aid": &types.AttributeValueMemberS{Value: aid}, "seq": &types.AttributeValueMemberN{Value: seq}}
}

func put(table, aid, seq, v string) types.TransactWriteItem {
	item := key(aid, seq)
	item["v"] = &types.AttributeValueMemberS{Value: v}
	item["b"] = &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}} // binary, as a snapshot's state
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(aid)")}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// streamRecords counts the records of the table's stream.
func streamRecords(t *testing.T, table string) int {
	t.Helper()
	cl := testkit.AWS(t)
	desc, err := cl.DynamoDB.DescribeTable(ctx(t), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := cl.Streams.DescribeStream(ctx(t), &dynamodbstreams.DescribeStreamInput{StreamArn: desc.Table.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, shard := range stream.StreamDescription.Shards {
		it, err := cl.Streams.GetShardIterator(ctx(t), &dynamodbstreams.GetShardIteratorInput{StreamArn: desc.Table.LatestStreamArn,
			ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			out, err := cl.Streams.GetRecords(ctx(t), &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) == 0 {
				break
			}
			n += len(out.Records)
			iter = out.NextShardIterator
		}
	}
	return n
}

// TestCancelledTransactionLeavesNoTrace: a transaction whose last item fails its condition writes nothing: not
// its new item, not its update, not a stream record.
func TestCancelledTransactionLeavesNoTrace(t *testing.T) {
	t.Parallel()
	db := testkit.AWS(t).DynamoDB
	table := journal(t)
	if _, err := db.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put(table, "a", "1", "first"), put(table, "b", "1", "first"),
	}}); err != nil {
		t.Fatal(err)
	}
	before := streamRecords(t, table)
	update := types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table), Key: key("a", "1"),
		UpdateExpression:          aws.String("SET v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "changed"}}}}
	_, err := db.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put(table, "c", "1", "new"), update, put(table, "b", "1", "again"),
	}})
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		t.Fatalf("transaction = %v, want TransactionCanceledException", err)
	}
	if got, _ := db.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("c", "1")}); got.Item != nil {
		t.Error("the cancelled transaction's new item is stored")
	}
	got, err := db.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("a", "1")})
	if err != nil || got.Item["v"].(*types.AttributeValueMemberS).Value != "first" {
		t.Errorf("the cancelled transaction's update stayed: %v, %v", got.Item, err)
	}
	if after := streamRecords(t, table); after != before {
		t.Errorf("stream records %d → %d, want none added", before, after)
	}
}

// TestClientRequestTokenMakesARepeatANoOp: the same transaction sent again with its token succeeds without
// running again (an SDK retry after a lost answer); with other items it is refused; a new token runs anew.
func TestClientRequestTokenMakesARepeatANoOp(t *testing.T) {
	t.Parallel()
	db := testkit.AWS(t).DynamoDB
	table := journal(t)
	send := func(token, v string) error {
		_, err := db.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(token),
			TransactItems: []types.TransactWriteItem{put(table, "a", "1", v)}})
		return err
	}
	token := testkit.UniqueName(t, "tok")
	if err := send(token, "one"); err != nil {
		t.Fatal(err)
	}
	if err := send(token, "one"); err != nil {
		t.Errorf("the repeat with the same token = %v, want success", err)
	}
	var mismatch *types.IdempotentParameterMismatchException
	if err := send(token, "two"); !errors.As(err, &mismatch) {
		t.Errorf("the same token with other items = %v, want IdempotentParameterMismatchException", err)
	}
	var cancelled *types.TransactionCanceledException
	if err := send(token+"-new", "one"); !errors.As(err, &cancelled) {
		t.Errorf("a new token = %v, want the condition checked again (TransactionCanceledException)", err)
	}
	if n := streamRecords(t, table); n != 1 {
		t.Errorf("%d stream records, want 1", n)
	}
}

// TestKeyedQueryReadsOnlyItsPartitionInOrder holds keyed_queries to moto's own answers: a Query on the table's key
// returns the asked partition's items only, in range order either way, page by page.
func TestKeyedQueryReadsOnlyItsPartitionInOrder(t *testing.T) {
	table := journal(t)
	db := testkit.AWS(t).DynamoDB
	for _, aid := range []string{"a", "b", "c"} {
		for seq := 1; seq <= 7; seq++ {
			s := strconv.Itoa(seq)
			if _, err := db.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{
				TransactItems: []types.TransactWriteItem{put(table, aid, s, aid+s)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	query := func(forward bool) []string {
		var got []string
		in := &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("aid = :a AND seq >= :s"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":a": &types.AttributeValueMemberS{Value: "b"}, ":s": &types.AttributeValueMemberN{Value: "2"}},
			ScanIndexForward: aws.Bool(forward), Limit: aws.Int32(4)}
		for {
			out, err := db.Query(ctx(t), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				got = append(got, it["aid"].(*types.AttributeValueMemberS).Value+it["seq"].(*types.AttributeValueMemberN).Value)
			}
			if len(out.LastEvaluatedKey) == 0 {
				return got
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	if got, want := query(true), []string{"b2", "b3", "b4", "b5", "b6", "b7"}; !slices.Equal(got, want) {
		t.Errorf("forward query: %v, want %v", got, want)
	}
	if got, want := query(false), []string{"b7", "b6", "b5", "b4", "b3", "b2"}; !slices.Equal(got, want) {
		t.Errorf("backward query: %v, want %v", got, want)
	}
}
