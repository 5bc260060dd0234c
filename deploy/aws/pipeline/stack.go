package pipeline

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsopensearchservice"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// PipelineStack is the whole pipeline in one AWS account and region: storage, MSK, OpenSearch, Aurora, the
// four Fargate services behind one load balancer, their scaling and alarms.
type PipelineStack struct {
	Stack       awscdk.Stack
	Props       Props
	Data        *Data
	Kafka       *Kafka
	Search      awsopensearchservice.Domain
	Database    awsrds.DatabaseCluster
	Services    map[string]*Service
	LoadBalance *LoadBalancer
	Alarms      []awscloudwatch.Alarm
}

// NewPipelineStack creates the stack in scope; it fails when props (after defaults) are invalid.
func NewPipelineStack(scope constructs.Construct, id string, props Props) (*PipelineStack, error) {
	p := props.WithDefaults()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline stack %s: %w", id, err)
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &p.StackProps)
	st := &PipelineStack{Stack: stack, Props: p, Services: map[string]*Service{}}
	vpc := newVPC(stack, p)
	st.Data = newData(stack, p)
	st.Kafka = newKafka(stack, p, vpc)
	st.Search = newSearch(stack, p, vpc)
	st.Database = newDatabase(stack, p, vpc)

	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc: vpc, ClusterName: jsii.String(p.Prefix), ContainerInsightsV2: awsecs.ContainerInsights_ENABLED,
	})
	metrics := awslogs.NewLogGroup(stack, jsii.String("Metrics"), &awslogs.LogGroupProps{
		LogGroupName: jsii.String("/" + p.Prefix + "/metrics"), Retention: awslogs.RetentionDays_ONE_WEEK,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	for _, spec := range st.specs(p) {
		st.Services[spec.name] = newService(stack, p, cluster, metrics, spec)
	}
	st.connect()
	st.LoadBalance = newLoadBalancer(stack, p, vpc, st.Services[Writer], st.Services[QueryAPI])
	st.scale(p)
	st.Alarms = newAlarms(stack, p, st.LoadBalance)

	awscdk.NewCfnOutput(stack, jsii.String("URL"), &awscdk.CfnOutputProps{
		Value: jsii.String("http://" + *st.LoadBalance.ALB.LoadBalancerDnsName()), Description: jsii.String("the HTTP API (commands and queries)"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("KafkaBrokers"), &awscdk.CfnOutputProps{Value: st.Kafka.Brokers})
	awscdk.NewCfnOutput(stack, jsii.String("PostgresSecretArn"), &awscdk.CfnOutputProps{Value: st.Database.Secret().SecretArn()})
	return st, nil
}

// specs returns each service's environment, secrets and policy statements.
func (st *PipelineStack) specs(p Props) []serviceSpec {
	d, k := st.Data, st.Kafka
	str := jsii.String
	partitions := str(strconv.Itoa(p.Partitions))
	kafkaEnv := func(client string) map[string]*string {
		return map[string]*string{
			"KAFKA_BROKERS": k.Brokers, "KAFKA_TOPIC_PREFIX": str(p.Prefix), "KAFKA_CLIENT_ID": str(p.Prefix + "-" + client),
			"KAFKA_TOPIC_PARTITIONS": partitions, "KAFKA_SASL_MECHANISM": str("AWS_MSK_IAM"), "KAFKA_TLS": str("true"),
		}
	}
	searchEnv := map[string]*string{
		"OPENSEARCH_URL": str("https://" + *st.Search.DomainEndpoint()), "SEARCH_FLAVOR": str("opensearch"), "SEARCH_SIGV4": str("true"),
		"POSTGRES_SECRET_ARN":   st.Database.Secret().SecretArn(),
		"PROJECTORS_VIEWS_NAME": str(p.Projections[0]), "PROJECTORS_SEARCH_NAME": str(p.Projections[1]),
	}
	domainPaths := []*string{st.Search.DomainArn(), str(*st.Search.DomainArn() + "/*")}
	dbSecret := st.Database.Secret().SecretArn()

	authEnv := map[string]*string{}
	authSecrets := map[string]awsecs.Secret{}
	if p.AuthJWKSURL != "" {
		authEnv["AUTH_JWKS_URL"] = str(p.AuthJWKSURL)
		for name, v := range map[string]string{"AUTH_ISSUER": p.AuthIssuer, "AUTH_AUDIENCE": p.AuthAudience} {
			if v != "" {
				authEnv[name] = str(v)
			}
		}
	} else {
		authSecrets["AUTH_HS256_SECRET"] = awsecs.Secret_FromSecretsManager(generatedSecret(st.Stack, "AuthKey", p.Prefix+"/auth-hs256"), nil)
	}
	cursor := generatedSecret(st.Stack, "CursorKey", p.Prefix+"/queryapi-cursor")
	// The writer signs the consistency tokens and the query API verifies them with this one key; it is its own
	// secret, not derived from the JWT one, so that it exists in JWKS mode too and rotates on its own.
	tokenSecrets := map[string]awsecs.Secret{"CONSISTENCY_TOKEN_SECRET": awsecs.Secret_FromSecretsManager(
		generatedSecret(st.Stack, "ConsistencyTokenKey", p.Prefix+"/consistency-token"), nil)}

	writer := serviceSpec{name: Writer, minTasks: p.WriterMin,
		env: merge(authEnv, map[string]*string{
			"DYNAMODB_TABLE_PREFIX": str(p.Prefix), "SNAPSHOT_BUCKET": d.Bucket.BucketName(), "DYNAMODB_CREATE_TABLES": str("false"),
		}),
		secrets: merge(authSecrets, tokenSecrets),
		policy: []awsiam.PolicyStatement{
			allow(writerJournalActions, d.Journal.TableArn()),
			allow(writerSnapshotActions, d.Snapshots.TableArn()),
			allow(writerIdemActions, d.Idempotency.TableArn()),
			allow(writerEntityActions, d.Entities.TableArn()),
			allow(writerObjectActions, d.Bucket.ArnForObjects(str(SnapshotKeyPrefix+"*"))),
			// Without ListBucket a missing object answers 403, not the NoSuchKey the store treats as expired.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("s3:ListBucket"), Resources: &[]*string{d.Bucket.BucketArn()},
				Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": SnapshotKeyPrefix + "*"}},
			}),
		},
	}
	relay := serviceSpec{name: Relay, minTasks: p.RelayMin,
		env: merge(kafkaEnv(Relay), map[string]*string{
			"DYNAMODB_TABLE_PREFIX": str(p.Prefix), "RELAY_LEASE_TABLE": d.Leases.TableName(), "DYNAMODB_CREATE_TABLES": str("false"),
		}),
		policy: []awsiam.PolicyStatement{
			allow(relayJournalActions, d.Journal.TableArn()),
			allow(relayStreamActions, d.Journal.TableStreamArn()),
			allow(relayLeaseActions, d.Leases.TableArn()),
			allow(kafkaClusterActions, k.Cluster.AttrArn()),
			allow(relayTopicActions, k.arn("topic", p.Prefix+".*.events")),
		},
	}
	groups := make([]*string, 0, len(p.Projections))
	for _, name := range p.Projections {
		groups = append(groups, k.arn("group", name+".v*"))
	}
	projectors := serviceSpec{name: Projectors, minTasks: 1, command: []string{"run"},
		env: merge(kafkaEnv(Projectors), searchEnv, map[string]*string{
			"DYNAMODB_TABLE_PREFIX": str(p.Prefix), "SNAPSHOT_BUCKET": d.Bucket.BucketName(),
		}),
		policy: []awsiam.PolicyStatement{
			allow(projectorJournalAction, d.Journal.TableArn()),
			allow(kafkaClusterActions, k.Cluster.AttrArn()),
			allow(projectorTopicActions, k.arn("topic", p.Prefix+".*")),
			allow(projectorGroupActions, groups...),
			allow(projectorSearchActions, domainPaths...),
			allow(secretReadActions, dbSecret),
		},
	}
	query := serviceSpec{name: QueryAPI, minTasks: p.QueryMin,
		env:     merge(authEnv, searchEnv),
		secrets: merge(authSecrets, tokenSecrets, map[string]awsecs.Secret{"QUERYAPI_CURSOR_SECRET": awsecs.Secret_FromSecretsManager(cursor, nil)}),
		policy: []awsiam.PolicyStatement{
			allow(querySearchActions, domainPaths...),
			allow(secretReadActions, dbSecret),
		},
	}
	return []serviceSpec{writer, relay, projectors, query}
}

// connect opens the data services' ports to the services that call them.
func (st *PipelineStack) connect() {
	for _, name := range []string{Relay, Projectors} {
		st.Kafka.SecurityGroup.AddIngressRule(st.Services[name].SecurityGroup, awsec2.Port_Tcp(jsii.Number(kafkaIAMPort)), jsii.String("MSK IAM from "+name), nil)
	}
	for _, name := range []string{Projectors, QueryAPI} {
		sg := st.Services[name].SecurityGroup
		st.Search.Connections().AllowFrom(sg, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("OpenSearch from "+name))
		st.Database.Connections().AllowDefaultPortFrom(sg, jsii.String("Postgres from "+name))
	}
}

// scale gives each service its own scaling: the writer and the relay on CPU, the query API on requests per
// task, the projectors on CPU up to one task per partition (more would sit idle in the consumer groups).
func (st *PipelineStack) scale(p Props) {
	cpu := &awsecs.CpuUtilizationScalingProps{TargetUtilizationPercent: jsii.Number(60)}
	count := func(name string, min, max int) awsecs.ScalableTaskCount {
		return st.Services[name].Fargate.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
			MinCapacity: jsii.Number(min), MaxCapacity: jsii.Number(max),
		})
	}
	count(Writer, p.WriterMin, p.WriterMax).ScaleOnCpuUtilization(jsii.String("Cpu"), cpu)
	count(Relay, p.RelayMin, p.RelayMax).ScaleOnCpuUtilization(jsii.String("Cpu"), cpu)
	count(Projectors, 1, p.Partitions).ScaleOnCpuUtilization(jsii.String("Cpu"), cpu)
	q := count(QueryAPI, p.QueryMin, p.QueryMax)
	q.ScaleOnRequestCount(jsii.String("Requests"), &awsecs.RequestCountScalingProps{
		RequestsPerTarget: jsii.Number(p.QueryRequestsPerTarget), TargetGroup: st.LoadBalance.Queries,
	})
	q.ScaleOnCpuUtilization(jsii.String("Cpu"), cpu)
}

// generatedSecret creates a random 48-character key in Secrets Manager named name.
func generatedSecret(scope constructs.Construct, id, name string) awssecretsmanager.Secret {
	return awssecretsmanager.NewSecret(scope, jsii.String(id), &awssecretsmanager.SecretProps{
		SecretName: jsii.String(name),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength: jsii.Number(48), ExcludePunctuation: jsii.Bool(true),
		},
	})
}

// merge returns the union of maps, later ones winning.
func merge[V any](maps ...map[string]V) map[string]V {
	out := map[string]V{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
