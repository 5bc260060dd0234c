package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsopensearchservice"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newSearch creates the OpenSearch Service domain in the isolated subnets, HTTPS only, encrypted, with no
// resource policy: the task roles' identity policies (es:ESHttp* on this domain) and SigV4 (SEARCH_SIGV4=true)
// decide who may call it. It is rebuilt from the topics at will, so it is destroyed with the stack.
func newSearch(scope constructs.Construct, p Props, vpc awsec2.IVpc) awsopensearchservice.Domain {
	return awsopensearchservice.NewDomain(scope, jsii.String("Search"), &awsopensearchservice.DomainProps{
		Version:       awsopensearchservice.EngineVersion_OPENSEARCH_2_19(),
		Vpc:           vpc,
		VpcSubnets:    &[]*awsec2.SubnetSelection{dataSubnets()},
		ZoneAwareness: &awsopensearchservice.ZoneAwarenessConfig{Enabled: jsii.Bool(true), AvailabilityZoneCount: jsii.Number(2)},
		Capacity: &awsopensearchservice.CapacityConfig{
			DataNodes: jsii.Number(p.SearchNodes), DataNodeInstanceType: jsii.String(p.SearchInstanceType),
			MultiAzWithStandbyEnabled: jsii.Bool(false),
		},
		Ebs:                  &awsopensearchservice.EbsOptions{VolumeSize: jsii.Number(100), VolumeType: awsec2.EbsDeviceVolumeType_GP3},
		EnforceHttps:         jsii.Bool(true),
		NodeToNodeEncryption: jsii.Bool(true),
		EncryptionAtRest:     &awsopensearchservice.EncryptionAtRestOptions{Enabled: jsii.Bool(true)},
		RemovalPolicy:        awscdk.RemovalPolicy_DESTROY,
	})
}
