package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Data is the command side's storage: the DynamoDB tables and the snapshot bucket.
type Data struct {
	Journal, Snapshots, Idempotency, Entities, Leases awsdynamodb.Table
	Bucket                                            awss3.Bucket
}

// Key attributes, as internal/eventstore and relay/lease write them.
const (
	attrAggregateID = "aid"        // journal and snapshots partition key (S)
	attrSeq         = "seq"        // journal sort key (N)
	attrIdemKey     = "key"        // idempotency partition key (S)
	attrIdemExpires = "expires_at" // idempotency TTL, epoch seconds
	attrEntityKey   = "key"        // entities partition key (S)
	attrStreamARN   = "stream_arn" // leases partition key (S)
	attrShardID     = "shard_id"   // leases sort key (S)
)

// SnapshotKeyPrefix starts every snapshot object key (internal/eventstore: snapshots/<aggregate>/<seq>-<random>).
const SnapshotKeyPrefix = "snapshots/"

// newData creates the tables <prefix>-journal, -snapshots, -idempotency, -entities, -relay-leases (on demand)
// and the snapshot bucket. The journal, the only source of truth, has a NEW_IMAGE stream, point-in-time recovery
// and deletion protection; every table and the bucket are retained when the stack is deleted.
func newData(scope constructs.Construct, p Props) *Data {
	s := constructs.NewConstruct(scope, jsii.String("Data"))
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	pitr := &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)}
	table := func(id, suffix string, props awsdynamodb.TableProps) awsdynamodb.Table {
		props.TableName = jsii.String(p.Prefix + suffix)
		props.BillingMode = awsdynamodb.BillingMode_PAY_PER_REQUEST
		props.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
		return awsdynamodb.NewTable(s, jsii.String(id), &props)
	}
	d := &Data{
		Journal: table("Journal", "-journal", awsdynamodb.TableProps{
			PartitionKey:                     str(attrAggregateID),
			SortKey:                          &awsdynamodb.Attribute{Name: jsii.String(attrSeq), Type: awsdynamodb.AttributeType_NUMBER},
			Stream:                           awsdynamodb.StreamViewType_NEW_IMAGE,
			PointInTimeRecoverySpecification: pitr,
			DeletionProtection:               jsii.Bool(true),
		}),
		// Snapshots and leases can be rebuilt (from the journal, from the stream's trim horizon), yet a lost
		// leases table means re-publishing 24 h of events: PITR is cheap insurance for both.
		Snapshots:   table("Snapshots", "-snapshots", awsdynamodb.TableProps{PartitionKey: str(attrAggregateID), PointInTimeRecoverySpecification: pitr}),
		Idempotency: table("Idempotency", "-idempotency", awsdynamodb.TableProps{PartitionKey: str(attrIdemKey), TimeToLiveAttribute: jsii.String(attrIdemExpires)}),
		// Entities (a room's messages: author, deletion) are written in the events' transactions; the edit and
		// delete permission checks read them, and rebuilding them means replaying every room: PITR too.
		Entities: table("Entities", "-entities", awsdynamodb.TableProps{PartitionKey: str(attrEntityKey), PointInTimeRecoverySpecification: pitr}),
		Leases:   table("Leases", "-relay-leases", awsdynamodb.TableProps{PartitionKey: str(attrStreamARN), SortKey: str(attrShardID), PointInTimeRecoverySpecification: pitr}),
	}
	d.Bucket = awss3.NewBucket(s, jsii.String("SnapshotBucket"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		// Snapshot objects are immutable (a new key per snapshot, written with If-None-Match) and only the newest
		// per aggregate is pointed at: older ones, and those of appends that lost their transaction, are orphans.
		// A lifecycle rule cannot tell the newest from the orphans, so it expires every snapshot object after
		// SnapshotExpiryDays: an aggregate busy enough to need snapshots writes a fresh one every SNAPSHOT_EVERY
		// events, and a pointer whose object expired reads as no snapshot (a full replay, always correct).
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-snapshots"),
			Prefix:                              jsii.String(SnapshotKeyPrefix),
			Expiration:                          awscdk.Duration_Days(jsii.Number(p.SnapshotExpiryDays)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
	})
	return d
}
