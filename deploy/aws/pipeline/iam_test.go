package pipeline_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// dataServices are the services whose actions must never be wildcards.
var dataServices = []string{"dynamodb", "s3", "kafka-cluster", "es", "secretsmanager"}

func TestNoPolicyGrantsEveryActionOnData(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	policies := resources(tpl, "AWS::IAM::Policy")
	if len(policies) < 4 {
		t.Fatalf("%d IAM policies, want one per task role at least", len(policies))
	}
	for id, pol := range policies {
		doc := props(pol)["PolicyDocument"].(map[string]any)
		for _, st := range list(doc["Statement"]) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			if st["NotAction"] != nil {
				t.Errorf("%s: NotAction grants everything else", id)
			}
			for _, a := range list(st["Action"]) {
				action := a.(string)
				if action == "*" {
					t.Errorf("%s: action *", id)
				}
				svc, name, _ := strings.Cut(action, ":")
				if slices.Contains(dataServices, svc) && strings.Contains(name, "*") {
					t.Errorf("%s: wildcard action %s on a data service", id, action)
				}
			}
		}
	}
}

// taskRoleActions returns the actions of the policies attached to each service's task role.
func taskRoleActions(tpl map[string]any) map[string][]string {
	roleOf := map[string]string{} // role logical id → service
	for id := range resources(tpl, "AWS::IAM::Role") {
		for _, svc := range []string{"Writer", "Relay", "Projectors", "Queryapi"} {
			if strings.HasPrefix(id, svc+"TaskRole") {
				roleOf[id] = strings.ToLower(svc)
			}
		}
	}
	out := map[string][]string{}
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		for _, r := range list(props(pol)["Roles"]) {
			ref, _ := r.(map[string]any)["Ref"].(string)
			svc, ok := roleOf[ref]
			if !ok {
				continue
			}
			for _, st := range list(props(pol)["PolicyDocument"].(map[string]any)["Statement"]) {
				for _, a := range list(st.(map[string]any)["Action"]) {
					out[svc] = append(out[svc], a.(string))
				}
			}
		}
	}
	for svc := range out {
		slices.Sort(out[svc])
		out[svc] = slices.Compact(out[svc])
	}
	return out
}

func TestEachTaskRoleHoldsOnlyWhatItsServiceCalls(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	// Every role: its log streams and, for the collector beside the service, the spans to X-Ray.
	shared := []string{"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
	want := map[string][]string{
		"writer": append([]string{"dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem",
			"dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem", "s3:GetObject", "s3:ListBucket", "s3:PutObject"}, shared...),
		"relay": append([]string{"dynamodb:DeleteItem", "dynamodb:DescribeStream", "dynamodb:DescribeTable", "dynamodb:GetItem",
			"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem",
			"kafka-cluster:Connect", "kafka-cluster:CreateTopic", "kafka-cluster:DescribeCluster", "kafka-cluster:DescribeTopic",
			"kafka-cluster:WriteData", "kafka-cluster:WriteDataIdempotently"}, shared...),
		"projectors": append([]string{"dynamodb:Query", "es:ESHttpDelete", "es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut",
			"kafka-cluster:AlterGroup", "kafka-cluster:Connect", "kafka-cluster:CreateTopic", "kafka-cluster:DeleteGroup",
			"kafka-cluster:DescribeCluster", "kafka-cluster:DescribeGroup", "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData",
			"kafka-cluster:WriteData", "kafka-cluster:WriteDataIdempotently", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}, shared...),
		"queryapi": append([]string{"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}, shared...),
	}
	got := taskRoleActions(tpl)
	for svc, actions := range want {
		slices.Sort(actions)
		if !slices.Equal(got[svc], actions) {
			t.Errorf("%s task role actions:\n got %v\nwant %v", svc, got[svc], actions)
		}
	}
}

// TestWriterUpdatesTheEntitiesTableOnly checks that dynamodb:UpdateItem, which the writer needs for the
// entities it writes in its transactions, is granted to it on the entities table alone: the journal, the
// snapshots and the idempotency records are only ever put.
func TestWriterUpdatesTheEntitiesTableOnly(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	var entities string
	for id, tbl := range resources(tpl, "AWS::DynamoDB::Table") {
		if props(tbl)["TableName"] == "chat-test-entities" {
			entities = id
		}
	}
	if entities == "" {
		t.Fatal("no table chat-test-entities")
	}
	granted := 0
	for id, pol := range resources(tpl, "AWS::IAM::Policy") {
		roles := list(props(pol)["Roles"])
		if len(roles) != 1 || !strings.HasPrefix(fmt.Sprint(roles[0].(map[string]any)["Ref"]), "WriterTaskRole") {
			continue
		}
		for _, st := range list(props(pol)["PolicyDocument"].(map[string]any)["Statement"]) {
			st := st.(map[string]any)
			if !slices.Contains(list(st["Action"]), any("dynamodb:UpdateItem")) {
				continue
			}
			for _, r := range list(st["Resource"]) {
				att, _ := r.(map[string]any)["Fn::GetAtt"].([]any)
				if len(att) != 2 || att[0] != entities || att[1] != "Arn" {
					t.Errorf("%s grants the writer dynamodb:UpdateItem on %v, want the entities table only", id, r)
					continue
				}
				granted++
			}
		}
	}
	if granted == 0 {
		t.Error("the writer may not update the entities table")
	}
}
