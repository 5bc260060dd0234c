package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Alarm names (with the prefix in front), as the runbook lists them.
const (
	AlarmStreamAge   = "relay-stream-record-age"
	AlarmTrimmed     = "relay-stream-trimmed"
	AlarmConsumerLag = "consumer-lag-"  // + projection
	AlarmDLQ         = "dlq-not-empty-" // + projection
	AlarmFreshness   = "freshness-"     // + projection
	AlarmHTTP5xxRate = "http-5xx-rate"
)

// newAlarms creates the alarms and the SNS topic they notify.
//
// The stream's age is the relay's own metric (relay_stream_record_age_seconds: stream record creation to Kafka
// acknowledgement, published by the collector): DynamoDB Streams has no iterator-age metric for consumers other
// than Lambda, and the relay's measure covers the Kafka hop too. Consumer lag and dead letters are the
// projectors' metrics per projection (projector_lag_records, projector_dlq_total, projector_freshness_seconds: the
// last recorded for the live version only), which follow the live consumer group across rebuilds; MSK's own lag metrics are per group name, and the name changes with every version.
func newAlarms(scope constructs.Construct, p Props, lb *LoadBalancer) []awscloudwatch.Alarm {
	s := constructs.NewConstruct(scope, jsii.String("Alarms"))
	topic := awssns.NewTopic(s, jsii.String("Topic"), &awssns.TopicProps{DisplayName: jsii.String(p.Prefix + " pipeline alarms")})
	if p.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(p.AlarmEmail), nil))
	}
	metric := func(name, stat string, period float64, dims map[string]*string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(MetricsNamespace(p)), MetricName: jsii.String(name), Statistic: jsii.String(stat),
			Period: awscdk.Duration_Minutes(jsii.Number(period)), DimensionsMap: &dims,
		})
	}
	var alarms []awscloudwatch.Alarm
	add := func(id, name, desc string, m awscloudwatch.IMetric, threshold, periods float64, op awscloudwatch.ComparisonOperator, missing awscloudwatch.TreatMissingData) {
		a := awscloudwatch.NewAlarm(s, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName: jsii.String(p.Prefix + "-" + name), AlarmDescription: jsii.String(desc), Metric: m,
			Threshold: jsii.Number(threshold), EvaluationPeriods: jsii.Number(periods), DatapointsToAlarm: jsii.Number(periods),
			ComparisonOperator: op, TreatMissingData: missing,
		})
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
		a.AddOkAction(awscloudwatchactions.NewSnsAction(topic))
		alarms = append(alarms, a)
	}
	relay := map[string]*string{"service": jsii.String(Relay)}
	add("StreamAge", AlarmStreamAge, "Events wait in the journal's stream: the relay is behind, stuck or failing to publish (see deploy/README.md).",
		metric("relay_stream_record_age_seconds", "Average", 5, relay), float64(p.StreamAgeAlarmSeconds), 3,
		awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
	add("Trimmed", AlarmTrimmed, "Stream records expired before the relay read them: re-seed the topics (relay reseed).",
		metric("relay_trimmed_total", "Sum", 5, relay), 1, 1,
		awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
	for _, name := range p.Projections {
		dims := map[string]*string{"service": jsii.String(Projectors), "projector": jsii.String(name)}
		add("Lag"+constructID(name), AlarmConsumerLag+name, "The "+name+" projection falls behind its topics (expected during a rebuild of it).",
			metric("projector_lag_records", "Maximum", 5, dims), float64(p.LagAlarmRecords), 3,
			awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.TreatMissingData_BREACHING)
		add("Freshness"+constructID(name), AlarmFreshness+name, "Events reach the "+name+" read model late: occurred_at to readers seeing it, averaged (see deploy/README.md).",
			metric("projector_freshness_seconds", "Average", 5, dims), float64(p.FreshnessAlarmSeconds), 3,
			awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
		add("DLQ"+constructID(name), AlarmDLQ+name, "Events of the "+name+" projection were dead-lettered: fix, then projectors dlq redrive "+name+".",
			metric("projector_dlq_total", "Sum", 1, dims), 1, 1,
			awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
	}
	period := awscdk.Duration_Minutes(jsii.Number(1))
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}
	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"requests":  lb.ALB.Metrics().RequestCount(sum),
			"target5xx": lb.ALB.Metrics().HttpCodeTarget(elbv2.HttpCodeTarget_TARGET_5XX_COUNT, sum),
			"elb5xx":    lb.ALB.Metrics().HttpCodeElb(elbv2.HttpCodeElb_ELB_5XX_COUNT, sum),
		},
		Label: jsii.String("5xx per 100 requests"), Period: period,
	})
	add("Http5xx", AlarmHTTP5xxRate, "More than the threshold percent of requests answer 5xx (writer or query API, or the load balancer itself).",
		rate, p.Error5xxAlarmPercent, 5, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
	return alarms
}
