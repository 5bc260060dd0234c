package eventstore

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
)

// CreateTables creates, for local runs and tests, what the store needs: the journal (aid S hash key, seq N range
// key, stream with new images), the snapshots table (aid S hash key), the idempotency table (key S hash key,
// TTL on expires_at), the entities table (key S hash key) and the snapshot bucket, all on demand billing.
// Existing tables and bucket are kept, so it may run any number of times. It returns when the tables are
// ACTIVE, or the first error: ErrUnavailable (wrapped) when a server cannot be reached or a table is not ACTIVE
// within the call timeout (a later run carries on from there).
func (d *DynamoDB) CreateTables(ctx context.Context) error {
	specs := []dynamodb.CreateTableInput{
		{
			TableName: d.tables.journal,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String(AttrAggregateID), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String(AttrSeq), AttributeType: types.ScalarAttributeTypeN},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrAggregateID), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrSeq), KeyType: types.KeyTypeRange},
			},
			StreamSpecification: &types.StreamSpecification{
				StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage,
			},
		},
		hashKeyTable(d.tables.snapshots, attrSnapAggregateID),
		hashKeyTable(d.tables.idempotency, attrIdemKey),
		hashKeyTable(d.tables.entities, attrEntityKey),
	}
	for _, spec := range specs {
		// One table at a time, so that the call timeout bounds the creation and wait of each.
		_, err := bounded(ctx, d.cfg.CallTimeout, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, awsclient.EnsureTables(ctx, d.db, spec)
		})
		if err != nil {
			return storeError(ctx, "journal tables", err)
		}
	}
	if err := d.enableTTL(ctx); err != nil {
		return err
	}
	return d.createBucket(ctx)
}

func hashKeyTable(name *string, key string) dynamodb.CreateTableInput {
	return dynamodb.CreateTableInput{
		TableName: name,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(key), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
	}
}

// enableTTL turns on TTL on the idempotency table's expires_at unless it is on already; a server without TTL
// support is not an error, since Idempotency ignores expired records anyway.
func (d *DynamoDB) enableTTL(ctx context.Context) error {
	op := "enable ttl on " + aws.ToString(d.tables.idempotency)
	desc, err := send(ctx, d.cfg.CallTimeout, d.db.DescribeTimeToLive,
		&dynamodb.DescribeTimeToLiveInput{TableName: d.tables.idempotency})
	if err != nil {
		if unsupported(err) {
			return nil
		}
		return storeError(ctx, op, err)
	}
	if ttl := desc.TimeToLiveDescription; ttl != nil && aws.ToString(ttl.AttributeName) == attrIdemExpiresAt &&
		(ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabled || ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = send(ctx, d.cfg.CallTimeout, d.db.UpdateTimeToLive, &dynamodb.UpdateTimeToLiveInput{
		TableName: d.tables.idempotency,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrIdemExpiresAt), Enabled: aws.Bool(true),
		},
	})
	var api smithy.APIError
	switch {
	case err == nil, unsupported(err):
		return nil
	case errors.As(err, &api) && strings.Contains(strings.ToLower(api.ErrorMessage()), "already enabled"):
		return nil
	default:
		return storeError(ctx, op, err)
	}
}

// unsupported reports whether err says the server does not implement the operation.
func unsupported(err error) bool {
	var (
		api    smithy.APIError
		status interface{ HTTPStatusCode() int }
	)
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "UnknownOperationException", "NotImplemented", "NotImplementedException":
			return true
		}
	}
	return errors.As(err, &status) && status.HTTPStatusCode() == 501
}

// createBucket creates the snapshot bucket unless it exists and is ours.
func (d *DynamoDB) createBucket(ctx context.Context) error {
	op := "create bucket " + d.cfg.Bucket
	_, err := send(ctx, d.cfg.CallTimeout, d.s3.HeadBucket, &s3.HeadBucketInput{Bucket: d.bucket})
	if err == nil {
		return nil
	}
	var (
		notFound *s3types.NotFound
		status   interface{ HTTPStatusCode() int }
	)
	if !errors.As(err, &notFound) && !(errors.As(err, &status) && status.HTTPStatusCode() == 404) {
		return storeError(ctx, op, err)
	}
	in := &s3.CreateBucketInput{Bucket: d.bucket}
	if region := d.s3.Options().Region; region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(region),
		}
	}
	if _, err := send(ctx, d.cfg.CallTimeout, d.s3.CreateBucket, in); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return storeError(ctx, op, err)
		}
	}
	return nil
}

// Ping is a readiness probe: it succeeds when the journal table can be described. It returns ErrUnavailable
// (wrapped) when DynamoDB cannot be reached.
func (d *DynamoDB) Ping(ctx context.Context) error {
	if _, err := send(ctx, d.cfg.CallTimeout, d.db.DescribeTable, &dynamodb.DescribeTableInput{TableName: d.tables.journal}); err != nil {
		return storeError(ctx, "describe journal table", err)
	}
	return nil
}
