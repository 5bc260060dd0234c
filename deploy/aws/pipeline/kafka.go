package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsmsk"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// kafkaIAMPort is the MSK brokers' port for SASL/IAM over TLS.
const kafkaIAMPort = 9098

// Kafka is the MSK cluster: IAM authentication only, TLS between clients and brokers.
type Kafka struct {
	Cluster awsmsk.CfnCluster
	Name    string
	// SecurityGroup is the brokers'; clients are let in on kafkaIAMPort.
	SecurityGroup awsec2.SecurityGroup
	// Brokers is the comma-separated SASL/IAM bootstrap list (a token resolved at deployment).
	Brokers *string
}

// newKafka creates the MSK cluster, and reads its IAM bootstrap brokers at deployment through
// GetBootstrapBrokers (CloudFormation has no attribute for them).
func newKafka(scope constructs.Construct, p Props, vpc awsec2.IVpc) *Kafka {
	s := constructs.NewConstruct(scope, jsii.String("Kafka"))
	k := &Kafka{Name: p.Prefix + "-events"}
	k.SecurityGroup = awsec2.NewSecurityGroup(s, jsii.String("Brokers"), &awsec2.SecurityGroupProps{
		Vpc: vpc, Description: jsii.String("MSK brokers"), AllowAllOutbound: jsii.Bool(false),
	})
	subnets := vpc.SelectSubnets(dataSubnets()).SubnetIds
	k.Cluster = awsmsk.NewCfnCluster(s, jsii.String("Cluster"), &awsmsk.CfnClusterProps{
		ClusterName:         jsii.String(k.Name),
		KafkaVersion:        jsii.String(p.KafkaVersion),
		NumberOfBrokerNodes: jsii.Number(p.KafkaBrokers),
		BrokerNodeGroupInfo: &awsmsk.CfnCluster_BrokerNodeGroupInfoProperty{
			InstanceType:   jsii.String(p.KafkaInstanceType),
			ClientSubnets:  subnets,
			SecurityGroups: &[]*string{k.SecurityGroup.SecurityGroupId()},
			StorageInfo: &awsmsk.CfnCluster_StorageInfoProperty{
				EbsStorageInfo: &awsmsk.CfnCluster_EBSStorageInfoProperty{VolumeSize: jsii.Number(p.KafkaVolumeGiB)},
			},
		},
		ClientAuthentication: &awsmsk.CfnCluster_ClientAuthenticationProperty{
			Sasl:            &awsmsk.CfnCluster_SaslProperty{Iam: &awsmsk.CfnCluster_IamProperty{Enabled: jsii.Bool(true)}},
			Unauthenticated: &awsmsk.CfnCluster_UnauthenticatedProperty{Enabled: jsii.Bool(false)},
		},
		EncryptionInfo: &awsmsk.CfnCluster_EncryptionInfoProperty{
			EncryptionInTransit: &awsmsk.CfnCluster_EncryptionInTransitProperty{
				ClientBroker: jsii.String("TLS"), InCluster: jsii.Bool(true),
			},
		},
		// Per-topic metrics for the runbook's dashboards; consumer lag is alarmed on the projectors' own metric.
		EnhancedMonitoring: jsii.String("PER_TOPIC_PER_BROKER"),
	})
	k.Cluster.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)

	brokers := customresources.NewAwsCustomResource(s, jsii.String("BootstrapBrokers"), &customresources.AwsCustomResourceProps{
		OnUpdate: &customresources.AwsSdkCall{
			Service:            jsii.String("Kafka"),
			Action:             jsii.String("getBootstrapBrokers"),
			Parameters:         map[string]any{"ClusterArn": k.Cluster.AttrArn()},
			PhysicalResourceId: customresources.PhysicalResourceId_Of(k.Cluster.AttrArn()),
			OutputPaths:        jsii.Strings("BootstrapBrokerStringSaslIam"),
		},
		Policy: customresources.AwsCustomResourcePolicy_FromSdkCalls(&customresources.SdkCallsPolicyOptions{
			Resources: &[]*string{k.Cluster.AttrArn()},
		}),
		InstallLatestAwsSdk: jsii.Bool(false),
	})
	k.Brokers = brokers.GetResponseField(jsii.String("BootstrapBrokerStringSaslIam"))
	return k
}

// arn returns the ARN of the cluster's kind ("topic", "group") resource name (wildcards allowed):
// arn:<partition>:kafka:<region>:<account>:<kind>/<cluster name>/<cluster uuid>/<name>.
func (k *Kafka) arn(kind, name string) *string {
	return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:kafka:${AWS::Region}:${AWS::AccountId}:"+kind+"/"+k.Name+"/${Uuid}/"+name),
		&map[string]*string{"Uuid": awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), k.Cluster.AttrArn(), nil))})
}
