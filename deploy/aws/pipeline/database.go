package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// databaseName is the Postgres database of the views.
const databaseName = "pipeline"

// newDatabase creates Aurora PostgreSQL Serverless v2 (one writer, one reader in the other zone) in the
// isolated subnets, its master credentials generated into Secrets Manager as the JSON
// {host, port, username, password, dbname, engine} the services read through POSTGRES_SECRET_ARN.
func newDatabase(scope constructs.Construct, p Props, vpc awsec2.IVpc) awsrds.DatabaseCluster {
	return awsrds.NewDatabaseCluster(scope, jsii.String("Database"), &awsrds.DatabaseClusterProps{
		Engine: awsrds.DatabaseClusterEngine_AuroraPostgres(&awsrds.AuroraPostgresClusterEngineProps{
			Version: awsrds.AuroraPostgresEngineVersion_VER_16_9(),
		}),
		Credentials: awsrds.Credentials_FromGeneratedSecret(jsii.String("pipeline"), &awsrds.CredentialsBaseOptions{
			SecretName: jsii.String(p.Prefix + "/postgres"),
		}),
		DefaultDatabaseName:     jsii.String(databaseName),
		Writer:                  awsrds.ClusterInstance_ServerlessV2(jsii.String("writer"), nil),
		Readers:                 &[]awsrds.IClusterInstance{awsrds.ClusterInstance_ServerlessV2(jsii.String("reader"), &awsrds.ServerlessV2ClusterInstanceProps{ScaleWithWriter: jsii.Bool(true)})},
		ServerlessV2MinCapacity: jsii.Number(p.DatabaseMinACU),
		ServerlessV2MaxCapacity: jsii.Number(p.DatabaseMaxACU),
		Vpc:                     vpc,
		VpcSubnets:              dataSubnets(),
		StorageEncrypted:        jsii.Bool(true),
		// The views are rebuilt from the topics, yet a snapshot spares hours of replay.
		RemovalPolicy: awscdk.RemovalPolicy_SNAPSHOT,
	})
}
