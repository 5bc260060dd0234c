package pipeline

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// MetricsNamespace returns the CloudWatch namespace the collectors publish the services' Prometheus metrics
// to, and the alarms read.
func MetricsNamespace(p Props) string { return "Pipeline/" + p.Prefix }

// collectorConfig returns the AWS Distro for OpenTelemetry collector's configuration for one task: scrape the
// service's /metrics on localhost every 30 s and write them as CloudWatch embedded metric format logs to the
// metrics log group, each metric with the dimension "service", the projectors' also per "projector" (the label
// their metrics carry). Counters and histograms become per-period deltas (histograms as statistic sets: Sum
// and SampleCount, so Average is meaningful). It also receives the service's spans over OTLP/HTTP on
// 127.0.0.1:4318 and sends them to X-Ray, so one command's trace crosses the four services there.
func collectorConfig(p Props, service string, port int, metrics awslogs.ILogGroup) string {
	dims := "[[service]]"
	if service == Projectors {
		dims = "[[service], [service, projector]]"
	}
	lines := []string{
		"receivers:",
		"  prometheus:",
		"    config:",
		"      scrape_configs:",
		"        - job_name: " + service,
		"          scrape_interval: 30s",
		"          metrics_path: /metrics",
		"          static_configs:",
		fmt.Sprintf("            - targets: ['127.0.0.1:%d']", port),
		"              labels: {service: " + service + "}",
		"  otlp:",
		"    protocols:",
		"      http: {endpoint: '127.0.0.1:4318'}",
		"exporters:",
		"  awsemf:",
		"    namespace: " + MetricsNamespace(p),
		"    log_group_name: " + *metrics.LogGroupName(),
		"    log_stream_name: " + service + "-{TaskId}",
		"    dimension_rollup_option: NoDimensionRollup",
		"    metric_declarations:",
		"      - dimensions: " + dims,
		"        metric_name_selectors: ['.*']",
		"  awsxray: {}",
		"service:",
		"  pipelines:",
		"    metrics: {receivers: [prometheus], exporters: [awsemf]}",
		"    traces: {receivers: [otlp], exporters: [awsxray]}",
	}
	return strings.Join(lines, "\n") + "\n"
}
