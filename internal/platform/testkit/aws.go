package testkit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
)

// AWS returns clients for the stack's DynamoDB, DynamoDB Streams and S3 APIs, after checking that they answer.
func AWS(tb testing.TB) *awsclient.Clients {
	tb.Helper()
	st := MustStack(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := awsclient.New(ctx, st.AWS)
	if err != nil {
		tb.Fatalf("testkit: aws clients: %v", err)
	}
	if err := cl.PingDynamoDB(ctx); err != nil {
		unreachable(tb, "the DynamoDB API", st.AWS.DynamoDBEndpoint(), err)
	}
	return cl
}

// DynamoDBTable creates the table described by in under a unique name, waits until it is active, and deletes
// it when the test ends; it returns the name. in.TableName is ignored.
func DynamoDBTable(tb testing.TB, in dynamodb.CreateTableInput) string {
	tb.Helper()
	cl := AWS(tb).DynamoDB
	name := UniqueName(tb, "t")
	in.TableName = aws.String(name)
	if in.BillingMode == "" && in.ProvisionedThroughput == nil {
		in.BillingMode = "PAY_PER_REQUEST"
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	// The name is this test's alone, so "in use" can only mean that an attempt of this call created the table and
	// the SDK retried it after losing the answer (a connection cut mid-response): the table is there, as asked.
	var inUse *types.ResourceInUseException
	if _, err := cl.CreateTable(ctx, &in); err != nil && !errors.As(err, &inUse) {
		tb.Fatalf("testkit: create table %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		DeleteTables(ctx, tb, cl, name)
	})
	waiter := dynamodb.NewTableExistsWaiter(cl, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, setupTimeout); err != nil {
		tb.Fatalf("testkit: table %s not active: %v", name, err)
	}
	return name
}

// S3Bucket creates an empty bucket under a unique name and, when the test ends, empties and deletes it; it
// returns the name.
func S3Bucket(tb testing.TB) string {
	tb.Helper()
	cl := AWS(tb).S3
	name := UniqueName(tb, "b")
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("testkit: create bucket %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if err := emptyBucket(ctx, cl, name); err != nil {
			tb.Errorf("testkit: empty bucket %s: %v", name, err)
			return
		}
		if _, err := cl.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
			tb.Errorf("testkit: delete bucket %s: %v", name, err)
		}
	})
	return name
}

func emptyBucket(ctx context.Context, cl *s3.Client, name string) error {
	pages := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]s3types.ObjectIdentifier, 0, len(page.Contents))
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		if _, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(name), Delete: &s3types.Delete{Objects: ids},
		}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteTables deletes the named tables for a test's cleanup and reports each failure with tb.Errorf. A table
// not found counts as deleted: under load the SDK retries a call that timed out after the server had done it.
func DeleteTables(ctx context.Context, tb testing.TB, cl *dynamodb.Client, names ...string) {
	tb.Helper()
	for _, name := range names {
		_, err := cl.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &notFound) {
			tb.Errorf("delete table %s: %v", name, err)
		}
	}
}
