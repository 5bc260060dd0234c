package pipeline

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Ports the services listen on in their containers (HTTP_ADDR=0.0.0.0:<port>): the API or, for the relay and
// the projectors, /healthz, /readyz and /metrics.
var Ports = map[string]int{Writer: 8080, QueryAPI: 8081, Relay: 8082, Projectors: 8083}

// Service is one Fargate service with its own task role and security group.
type Service struct {
	Name          string
	Fargate       awsecs.FargateService
	TaskRole      awsiam.Role
	SecurityGroup awsec2.SecurityGroup
	Container     awsecs.ContainerDefinition
}

// serviceSpec is what differs between the services.
type serviceSpec struct {
	name     string
	command  []string
	env      map[string]*string
	secrets  map[string]awsecs.Secret
	policy   []awsiam.PolicyStatement
	minTasks int
}

// collectorMiB is the memory the metrics and traces collector beside each service reserves.
const collectorMiB = 64

// memoryLimitMiB is the Go runtime's soft memory limit (GOMEMLIMIT) for a service in a task of taskMiB: the task
// less the collector's reservation, of which 80 %, the rest for what the limit does not count (goroutine stacks
// are counted, but not the memory the kernel and the runtime's own structures take around the heap). Without it
// the collector lets the heap grow to twice what is live and a busy task is killed at its memory limit; the
// benchmarks run the rebuilds the same way (208 MiB of a 256 MiB budget).
func memoryLimitMiB(taskMiB int) int { return (taskMiB - collectorMiB) * 4 / 5 }

// newService creates spec's task definition (the service's container, its own task role holding exactly
// spec.policy, and the metrics collector beside it), security group and Fargate service in the task subnets.
func newService(scope constructs.Construct, p Props, cluster awsecs.ICluster, metrics awslogs.ILogGroup, spec serviceSpec) *Service {
	s := constructs.NewConstruct(scope, jsii.String(constructID(spec.name)))
	svc := &Service{Name: spec.name}
	svc.TaskRole = awsiam.NewRole(s, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("The " + spec.name + " tasks' role: only what the " + spec.name + " calls."),
	})
	for _, st := range spec.policy {
		svc.TaskRole.AddToPolicy(st)
	}
	metrics.GrantWrite(svc.TaskRole)
	svc.TaskRole.AddToPolicy(allow(traceActions, jsii.String("*")))

	task := awsecs.NewFargateTaskDefinition(s, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{
		Cpu: jsii.Number(p.TaskCPU), MemoryLimitMiB: jsii.Number(p.TaskMemoryMiB), TaskRole: svc.TaskRole,
		Family: jsii.String(p.Prefix + "-" + spec.name),
	})
	logs := awslogs.NewLogGroup(s, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/" + p.Prefix + "/" + spec.name),
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	port := Ports[spec.name]
	env := map[string]*string{
		"AWS_REGION":            awscdk.Aws_REGION(),
		"HTTP_ADDR":             jsii.String("0.0.0.0:" + strconv.Itoa(port)),
		"LOG_FORMAT":            jsii.String("json"),
		"LOG_LEVEL":             jsii.String("info"),
		"HTTP_SHUTDOWN_TIMEOUT": jsii.String("15s"),
		"OTEL_SERVICE_NAME":     jsii.String(spec.name),
		// Spans go over OTLP/HTTP to the SDK's default endpoint, 127.0.0.1:4318: the collector beside the
		// service, which forwards them to X-Ray.
		"OTEL_TRACES_EXPORTER": jsii.String("otlp"),
		"GOMEMLIMIT":           jsii.String(strconv.Itoa(memoryLimitMiB(p.TaskMemoryMiB)) + "MiB"),
	}
	for k, v := range spec.env {
		env[k] = v
	}
	opts := &awsecs.ContainerDefinitionOptions{
		Image:                  p.Images(s, spec.name),
		ContainerName:          jsii.String(spec.name),
		Environment:            &env,
		PortMappings:           &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(port), Protocol: awsecs.Protocol_TCP}},
		Logging:                awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String(spec.name), LogGroup: logs}),
		Essential:              jsii.Bool(true),
		ReadonlyRootFilesystem: jsii.Bool(true),
		// Longer than HTTP_SHUTDOWN_TIMEOUT: a stopping task finishes its batch or requests before SIGKILL.
		StopTimeout: awscdk.Duration_Seconds(jsii.Number(30)),
	}
	if len(spec.command) > 0 {
		opts.Command = jsii.Strings(spec.command...)
	}
	if len(spec.secrets) > 0 {
		secrets := spec.secrets
		opts.Secrets = &secrets
	}
	svc.Container = task.AddContainer(jsii.String(spec.name), opts)
	task.AddContainer(jsii.String("collector"), &awsecs.ContainerDefinitionOptions{
		Image:                awsecs.ContainerImage_FromRegistry(jsii.String(p.CollectorImage), nil),
		ContainerName:        jsii.String("collector"),
		Essential:            jsii.Bool(false),
		MemoryReservationMiB: jsii.Number(collectorMiB),
		Environment:          &map[string]*string{"AOT_CONFIG_CONTENT": jsii.String(collectorConfig(p, spec.name, port, metrics))},
		Logging:              awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String("collector"), LogGroup: logs}),
	})

	svc.SecurityGroup = awsec2.NewSecurityGroup(s, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc: cluster.Vpc(), Description: jsii.String("The " + spec.name + " tasks"), AllowAllOutbound: jsii.Bool(true),
	})
	svc.Fargate = awsecs.NewFargateService(s, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster:           cluster,
		TaskDefinition:    task,
		ServiceName:       jsii.String(p.Prefix + "-" + spec.name),
		DesiredCount:      jsii.Number(spec.minTasks),
		SecurityGroups:    &[]awsec2.ISecurityGroup{svc.SecurityGroup},
		VpcSubnets:        taskSubnets(),
		AssignPublicIp:    jsii.Bool(false),
		MinHealthyPercent: jsii.Number(100),
		MaxHealthyPercent: jsii.Number(200),
		CircuitBreaker:    &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
	})
	return svc
}

// constructID turns a service name into a construct id: "queryapi" → "Queryapi".
func constructID(name string) string {
	return string(name[0]-'a'+'A') + name[1:]
}
