package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// allow returns an Allow statement of actions on resources.
func allow(actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings(actions...), Resources: &resources,
	})
}

// The actions each service needs, by what it calls (internal/eventstore, relay, projectors, queryapi). No
// service may delete or scan the journal: it is appended to by the writer and read by aggregate otherwise;
// only the relay's reseed scans it.
var (
	// Scan is for `writer backfill-messages`, run once as a task of the writer's definition (see README.md).
	writerJournalActions = []string{"dynamodb:DescribeTable", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem",
		"dynamodb:ConditionCheckItem", "dynamodb:Scan"}
	writerSnapshotActions  = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"}
	writerIdemActions      = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"}
	writerEntityActions    = []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}
	writerObjectActions    = []string{"s3:GetObject", "s3:PutObject"}
	relayJournalActions    = []string{"dynamodb:DescribeTable", "dynamodb:Query", "dynamodb:Scan"}
	relayStreamActions     = []string{"dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"}
	relayLeaseActions      = []string{"dynamodb:DescribeTable", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
	projectorJournalAction = []string{"dynamodb:Query"}
	kafkaClusterActions    = []string{"kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"}
	relayTopicActions      = []string{"kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:WriteData"}
	projectorTopicActions  = []string{"kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData"}
	projectorGroupActions  = []string{"kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup", "kafka-cluster:DeleteGroup"}
	projectorSearchActions = []string{"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"}
	querySearchActions     = []string{"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"}
	secretReadActions      = []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
	// traceActions let the collector beside each service send its spans to X-Ray, which has no resource to
	// name: the two write calls on "*" (no read, no wildcard action).
	traceActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
)
