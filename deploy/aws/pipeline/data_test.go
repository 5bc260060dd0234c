package pipeline_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestTablesKeysBillingStreamAndTTL(t *testing.T) {
	tpl, _ := synth(t)
	check(t, "five tables", func() { tpl.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(5)) })
	key := func(name, kind string) obj { return obj{"AttributeName": name, "KeyType": kind} }
	attr := func(name, typ string) obj { return obj{"AttributeName": name, "AttributeType": typ} }
	pitr := obj{"PointInTimeRecoveryEnabled": true}
	absent := assertions.Match_Absent()
	tables := map[string]obj{
		"chat-test-journal": {
			"KeySchema":                        []any{key("aid", "HASH"), key("seq", "RANGE")},
			"AttributeDefinitions":             []any{attr("aid", "S"), attr("seq", "N")},
			"StreamSpecification":              obj{"StreamViewType": "NEW_IMAGE"},
			"PointInTimeRecoverySpecification": pitr,
			"DeletionProtectionEnabled":        true,
			"TimeToLiveSpecification":          absent,
		},
		"chat-test-snapshots": {
			"KeySchema": []any{key("aid", "HASH")}, "AttributeDefinitions": []any{attr("aid", "S")},
			"PointInTimeRecoverySpecification": pitr, "StreamSpecification": absent,
		},
		"chat-test-idempotency": {
			"KeySchema": []any{key("key", "HASH")}, "AttributeDefinitions": []any{attr("key", "S")},
			"TimeToLiveSpecification": obj{"AttributeName": "expires_at", "Enabled": true}, "StreamSpecification": absent,
		},
		"chat-test-entities": {
			"KeySchema": []any{key("key", "HASH")}, "AttributeDefinitions": []any{attr("key", "S")},
			"PointInTimeRecoverySpecification": pitr, "StreamSpecification": absent, "TimeToLiveSpecification": absent,
		},
		"chat-test-relay-leases": {
			"KeySchema":                        []any{key("stream_arn", "HASH"), key("shard_id", "RANGE")},
			"AttributeDefinitions":             []any{attr("stream_arn", "S"), attr("shard_id", "S")},
			"PointInTimeRecoverySpecification": pitr, "StreamSpecification": absent,
		},
	}
	for name, want := range tables {
		want["TableName"] = name
		want["BillingMode"] = "PAY_PER_REQUEST"
		// Arrays in a pattern match exactly: a table with an extra key or attribute would not match.
		check(t, name, func() { tpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), &want) })
	}
}

func TestSnapshotBucketIsPrivateEncryptedAndExpiresSnapshots(t *testing.T) {
	tpl, _ := synth(t)
	check(t, "bucket", func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), &obj{
			"BucketEncryption": obj{"ServerSideEncryptionConfiguration": []any{
				obj{"ServerSideEncryptionByDefault": obj{"SSEAlgorithm": "AES256"}},
			}},
			"PublicAccessBlockConfiguration": obj{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"LifecycleConfiguration": obj{"Rules": []any{obj{
				"Prefix": "snapshots/", "ExpirationInDays": 30, "Status": "Enabled",
				"AbortIncompleteMultipartUpload": obj{"DaysAfterInitiation": 1},
			}}},
		})
	})
	check(t, "bucket retained", func() {
		tpl.HasResource(jsii.String("AWS::S3::Bucket"), &obj{"DeletionPolicy": "Retain"})
	})
	check(t, "TLS only", func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), &obj{"PolicyDocument": obj{
			"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&obj{
				"Effect": "Deny", "Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}},
			})}),
		}})
	})
}
