package pipeline_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestLoadBalancerSendsCommandsToWriterAndQueriesToQueryAPI(t *testing.T) {
	tpl, _ := synth(t)
	for _, tc := range []struct {
		name     string
		priority int
		methods  []any
		paths    []any
		port     int
	}{
		{"commands", 10, []any{"POST", "PUT", "PATCH", "DELETE"}, []any{"/v1/*"}, 8080},
		{"queries", 20, []any{"GET", "HEAD"}, []any{"/v1/*", "/openapi.json"}, 8081},
	} {
		check(t, tc.name+" rule", func() {
			tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::ListenerRule"), &obj{
				"Priority": tc.priority,
				"Conditions": assertions.Match_ArrayWith(&[]any{
					obj{"Field": "http-request-method", "HttpRequestMethodConfig": obj{"Values": tc.methods}},
					obj{"Field": "path-pattern", "PathPatternConfig": obj{"Values": tc.paths}},
				}),
			})
		})
		check(t, tc.name+" targets", func() {
			tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::TargetGroup"), &obj{
				"Port": tc.port, "TargetType": "ip", "HealthCheckPath": "/readyz",
			})
		})
	}
	check(t, "default 404", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), &obj{
			"Port":           80,
			"DefaultActions": []any{obj{"Type": "fixed-response", "FixedResponseConfig": assertions.Match_ObjectLike(&obj{"StatusCode": "404"})}},
		})
	})
	check(t, "two rules", func() { tpl.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::ListenerRule"), jsii.Number(2)) })
}

func TestEachServiceScalesOnItsOwn(t *testing.T) {
	tpl, _ := synth(t)
	check(t, "four scalable targets", func() {
		tpl.ResourceCountIs(jsii.String("AWS::ApplicationAutoScaling::ScalableTarget"), jsii.Number(4))
	})
	check(t, "query API on requests per target", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ApplicationAutoScaling::ScalingPolicy"), &obj{
			"PolicyType": "TargetTrackingScaling",
			"TargetTrackingScalingPolicyConfiguration": assertions.Match_ObjectLike(&obj{
				"PredefinedMetricSpecification": assertions.Match_ObjectLike(&obj{"PredefinedMetricType": "ALBRequestCountPerTarget"}),
				"TargetValue":                   3000,
			}),
		})
	})
}

func TestAlarmsWatchTheHops(t *testing.T) {
	tpl, _ := synth(t)
	for _, tc := range []struct{ name, metric string }{
		{"chat-test-relay-stream-record-age", "relay_stream_record_age_seconds"},
		{"chat-test-relay-stream-trimmed", "relay_trimmed_total"},
		{"chat-test-consumer-lag-views", "projector_lag_records"},
		{"chat-test-consumer-lag-search", "projector_lag_records"},
		{"chat-test-dlq-not-empty-views", "projector_dlq_total"},
		{"chat-test-dlq-not-empty-search", "projector_dlq_total"},
		{"chat-test-freshness-views", "projector_freshness_seconds"},
		{"chat-test-freshness-search", "projector_freshness_seconds"},
	} {
		check(t, tc.name, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &obj{
				"AlarmName": tc.name, "MetricName": tc.metric, "Namespace": "Pipeline/chat-test",
				"AlarmActions": assertions.Match_AnyValue(),
			})
		})
	}
	check(t, "5xx rate", func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &obj{
			"AlarmName": "chat-test-http-5xx-rate",
			"Metrics": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&obj{
				"Expression": assertions.Match_StringLikeRegexp(jsii.String("target5xx.*elb5xx.*/ requests")),
			})}),
		})
	})
	check(t, "nine alarms", func() { tpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(9)) })
}

func TestKafkaUsesIAMOverTLS(t *testing.T) {
	tpl, _ := synth(t)
	check(t, "msk", func() {
		tpl.HasResourceProperties(jsii.String("AWS::MSK::Cluster"), &obj{
			"ClientAuthentication": obj{"Sasl": obj{"Iam": obj{"Enabled": true}}, "Unauthenticated": obj{"Enabled": false}},
			"EncryptionInfo":       obj{"EncryptionInTransit": obj{"ClientBroker": "TLS", "InCluster": true}},
			"NumberOfBrokerNodes":  2,
		})
	})
}
