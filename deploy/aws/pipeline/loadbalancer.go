package pipeline

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Routing of the HTTP contract (DESIGN.md, internal/openapi): commands are POST or DELETE under /v1/ (PUT and
// PATCH too, should the contract grow them), queries GET under /v1/; /openapi.json is the query API's copy.
var (
	CommandMethods = []string{"POST", "PUT", "PATCH", "DELETE"}
	QueryMethods   = []string{"GET", "HEAD"}
	CommandPaths   = []string{"/v1/*"}
	QueryPaths     = []string{"/v1/*", "/openapi.json"}
)

// LoadBalancer is the public entry: one listener whose rules send commands to the writer and queries to the
// query API; anything else is a 404 problem.
type LoadBalancer struct {
	ALB                    elbv2.ApplicationLoadBalancer
	Listener               elbv2.ApplicationListener
	WriterTargets, Queries elbv2.ApplicationTargetGroup
}

// newLoadBalancer creates the internet-facing ALB, the writer's and the query API's target groups (health
// check GET /readyz) and the listener rules.
func newLoadBalancer(scope constructs.Construct, p Props, vpc awsec2.IVpc, writer, query *Service) *LoadBalancer {
	s := constructs.NewConstruct(scope, jsii.String("LoadBalancer"))
	lb := &LoadBalancer{}
	lb.ALB = elbv2.NewApplicationLoadBalancer(s, jsii.String("ALB"), &elbv2.ApplicationLoadBalancerProps{
		Vpc: vpc, InternetFacing: jsii.Bool(true), VpcSubnets: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		DropInvalidHeaderFields: jsii.Bool(true),
	})
	notFound := elbv2.ListenerAction_FixedResponse(jsii.Number(404), &elbv2.FixedResponseOptions{
		ContentType: jsii.String("application/problem+json"),
		MessageBody: jsii.String(`{"type":"about:blank","title":"Not Found","status":404,"detail":"no such route"}`),
	})
	if p.CertificateARN == "" {
		lb.Listener = lb.ALB.AddListener(jsii.String("Http"), &elbv2.BaseApplicationListenerProps{
			Port: jsii.Number(80), Protocol: elbv2.ApplicationProtocol_HTTP, Open: jsii.Bool(true), DefaultAction: notFound,
		})
	} else {
		lb.Listener = lb.ALB.AddListener(jsii.String("Https"), &elbv2.BaseApplicationListenerProps{
			Port: jsii.Number(443), Protocol: elbv2.ApplicationProtocol_HTTPS, Open: jsii.Bool(true), DefaultAction: notFound,
			Certificates: &[]elbv2.IListenerCertificate{elbv2.ListenerCertificate_FromArn(jsii.String(p.CertificateARN))},
			SslPolicy:    elbv2.SslPolicy_RECOMMENDED_TLS,
		})
		lb.ALB.AddRedirect(&elbv2.ApplicationLoadBalancerRedirectConfig{SourcePort: jsii.Number(80), TargetPort: jsii.Number(443)})
	}
	lb.WriterTargets = lb.route(s, vpc, writer, 10, CommandMethods, CommandPaths)
	lb.Queries = lb.route(s, vpc, query, 20, QueryMethods, QueryPaths)
	return lb
}

// route creates svc's target group and the listener rule sending methods on paths to it.
func (lb *LoadBalancer) route(scope constructs.Construct, vpc awsec2.IVpc, svc *Service, priority int, methods, paths []string) elbv2.ApplicationTargetGroup {
	port := Ports[svc.Name]
	tg := elbv2.NewApplicationTargetGroup(scope, jsii.String(constructID(svc.Name)+"Targets"), &elbv2.ApplicationTargetGroupProps{
		Vpc: vpc, Port: jsii.Number(port), Protocol: elbv2.ApplicationProtocol_HTTP, TargetType: elbv2.TargetType_IP,
		Targets: &[]elbv2.IApplicationLoadBalancerTarget{svc.Fargate.LoadBalancerTarget(&awsecs.LoadBalancerTargetOptions{
			ContainerName: jsii.String(svc.Name), ContainerPort: jsii.Number(port),
		})},
		HealthCheck: &elbv2.HealthCheck{
			Path: jsii.String("/readyz"), Port: jsii.String(strconv.Itoa(port)), HealthyHttpCodes: jsii.String("200"),
			Interval: awscdk.Duration_Seconds(jsii.Number(15)), HealthyThresholdCount: jsii.Number(2), UnhealthyThresholdCount: jsii.Number(3),
		},
		// Shorter than the container's stop timeout, longer than a request.
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(20)),
	})
	lb.Listener.AddTargetGroups(jsii.String(constructID(svc.Name)), &elbv2.AddApplicationTargetGroupsProps{
		Priority: jsii.Number(priority),
		Conditions: &[]elbv2.ListenerCondition{
			elbv2.ListenerCondition_HttpRequestMethods(jsii.Strings(methods...)),
			elbv2.ListenerCondition_PathPatterns(jsii.Strings(paths...)),
		},
		TargetGroups: &[]elbv2.IApplicationTargetGroup{tg},
	})
	return tg
}
