package pipeline

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// Props configures a PipelineStack: the environment's name, the Kafka partition count and the capacities.
// Zero fields take the defaults of WithDefaults.
type Props struct {
	awscdk.StackProps

	// EnvName names the environment ("dev", "prod"); it is part of every physical name.
	EnvName string
	// Prefix names the DynamoDB tables (<prefix>-journal, …) and the Kafka topics (<prefix>.room.events, …);
	// default "chat-<EnvName>".
	Prefix string
	// Partitions is the partition count of the event topics the services create, and the projectors' most tasks.
	Partitions int
	// Images returns the container image of a service ("writer", "relay", "projectors", "queryapi"); default:
	// ECRImages with the repository "<prefix>-pipeline" and the tag "latest". main.go builds them from the
	// repository's deploy/Dockerfile instead (AssetImages).
	Images ImageSource
	// Projections are the projectors' stable names, each with its consumer groups <name>.v<N>, DLQ topic and
	// alarms: the Postgres views' first (PROJECTORS_VIEWS_NAME), the search alias second
	// (PROJECTORS_SEARCH_NAME); default views and search.
	Projections []string

	// AuthJWKSURL, AuthIssuer and AuthAudience configure JWT checks with a JWKS (Amazon Cognito); without a
	// JWKS URL an HS256 key is generated in Secrets Manager.
	AuthJWKSURL, AuthIssuer, AuthAudience string
	// CertificateARN, when set, serves HTTPS on 443 (HTTP on 80 then redirects); else HTTP on 80 only.
	CertificateARN string
	// AlarmEmail, when set, subscribes this address to the alarms' topic.
	AlarmEmail string

	// Task counts: Writer, QueryAPI and Relay scale between Min and Max; projectors between 1 and Partitions.
	WriterMin, WriterMax, QueryMin, QueryMax, RelayMin, RelayMax int
	// QueryRequestsPerTarget is the ALB request count per query API task per minute the scaling keeps.
	QueryRequestsPerTarget int
	// TaskCPU (units) and TaskMemoryMiB size every service's task.
	TaskCPU, TaskMemoryMiB int

	// KafkaVersion, KafkaInstanceType, KafkaBrokers (a multiple of the two zones) and KafkaVolumeGiB size MSK.
	KafkaVersion, KafkaInstanceType string
	KafkaBrokers, KafkaVolumeGiB    int
	// SearchInstanceType and SearchNodes size the OpenSearch Service domain (nodes: a multiple of two).
	SearchInstanceType string
	SearchNodes        int
	// DatabaseMinACU and DatabaseMaxACU bound Aurora Serverless v2 capacity.
	DatabaseMinACU, DatabaseMaxACU float64

	// SnapshotExpiryDays is the age at which snapshot objects in S3 are deleted (see Bucket in data.go).
	SnapshotExpiryDays int
	// StreamAgeAlarmSeconds, LagAlarmRecords, FreshnessAlarmSeconds and Error5xxAlarmPercent are the alarms'
	// thresholds.
	StreamAgeAlarmSeconds, LagAlarmRecords, FreshnessAlarmSeconds int
	Error5xxAlarmPercent                                          float64
	// CollectorImage is the AWS Distro for OpenTelemetry collector run beside each service to publish its
	// Prometheus metrics to CloudWatch.
	CollectorImage string
}

// WithDefaults returns p with every zero field set to its default.
func (p Props) WithDefaults() Props {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setS := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	setS(&p.EnvName, "dev")
	setS(&p.Prefix, "chat-"+p.EnvName)
	set(&p.Partitions, 12)
	if len(p.Projections) == 0 {
		p.Projections = []string{"views", "search"}
	}
	set(&p.WriterMin, 2)
	set(&p.WriterMax, 8)
	set(&p.QueryMin, 2)
	set(&p.QueryMax, 16)
	set(&p.RelayMin, 2)
	set(&p.RelayMax, 4)
	set(&p.QueryRequestsPerTarget, 3000)
	set(&p.TaskCPU, 512)
	set(&p.TaskMemoryMiB, 1024)
	setS(&p.KafkaVersion, "3.9.x")
	setS(&p.KafkaInstanceType, "kafka.m7g.large")
	set(&p.KafkaBrokers, 2)
	set(&p.KafkaVolumeGiB, 100)
	setS(&p.SearchInstanceType, "r7g.large.search")
	set(&p.SearchNodes, 2)
	if p.DatabaseMinACU == 0 {
		p.DatabaseMinACU = 0.5
	}
	if p.DatabaseMaxACU == 0 {
		p.DatabaseMaxACU = 8
	}
	set(&p.SnapshotExpiryDays, 30)
	set(&p.StreamAgeAlarmSeconds, 60)
	set(&p.LagAlarmRecords, 10000)
	set(&p.FreshnessAlarmSeconds, 30)
	if p.Error5xxAlarmPercent == 0 {
		p.Error5xxAlarmPercent = 1
	}
	setS(&p.CollectorImage, "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1")
	if p.Images == nil {
		p.Images = ECRImages(p.Prefix+"-pipeline", "latest")
	}
	return p
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// Validate returns every problem of p (after WithDefaults) joined.
func (p Props) Validate() error {
	var errs []error
	if !namePattern.MatchString(p.EnvName) || !namePattern.MatchString(p.Prefix) {
		errs = append(errs, fmt.Errorf("env name %q and prefix %q must be 1-20 lower-case letters, digits or -", p.EnvName, p.Prefix))
	}
	if len(p.Projections) < 2 {
		errs = append(errs, errors.New("projections must name the views and the search projection"))
	}
	if p.Partitions < 1 {
		errs = append(errs, errors.New("partitions must be positive"))
	}
	for _, r := range [][2]int{{p.WriterMin, p.WriterMax}, {p.QueryMin, p.QueryMax}, {p.RelayMin, p.RelayMax}} {
		if r[0] < 1 || r[1] < r[0] {
			errs = append(errs, fmt.Errorf("task range %d..%d must be 1 <= min <= max", r[0], r[1]))
		}
	}
	if p.KafkaBrokers%2 != 0 || p.SearchNodes%2 != 0 {
		errs = append(errs, errors.New("kafka brokers and search nodes must be multiples of the two zones"))
	}
	if p.DatabaseMinACU < 0 || p.DatabaseMaxACU < p.DatabaseMinACU {
		errs = append(errs, errors.New("database capacity must be 0 <= min <= max"))
	}
	return errors.Join(errs...)
}
