package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Service names, as in the repository's directories and deploy/Dockerfile's SERVICE build argument.
const (
	Writer     = "writer"
	Relay      = "relay"
	Projectors = "projectors"
	QueryAPI   = "queryapi"
)

// Services lists every service the stack runs.
var Services = []string{Writer, Relay, Projectors, QueryAPI}

// ImageSource returns the container image of service, creating in scope (the service's own construct) what it
// needs.
type ImageSource func(scope constructs.Construct, service string) awsecs.ContainerImage

// AssetImages returns images built at deploy time by the CDK from deploy/Dockerfile under repoRoot with the
// build argument SERVICE; synthesis only stages the sources, it builds nothing.
func AssetImages(repoRoot string) ImageSource {
	return func(_ constructs.Construct, service string) awsecs.ContainerImage {
		return awsecs.ContainerImage_FromAsset(jsii.String(repoRoot), &awsecs.AssetImageProps{
			File:      jsii.String("deploy/Dockerfile"),
			BuildArgs: &map[string]*string{"SERVICE": jsii.String(service)},
			// Local servers' data, binaries and synthesized templates are not sources.
			Exclude: jsii.Strings(".git", ".local", ".bench", "bin", "**/*.test", "deploy/aws/cdk.out", "**/node_modules"),
		})
	}
}

// ECRImages returns images pushed beforehand to the stack account's ECR repository named repository, tagged
// "<service>-<tag>"; the execution roles may pull from that repository only.
func ECRImages(repository, tag string) ImageSource {
	return func(scope constructs.Construct, service string) awsecs.ContainerImage {
		repo := awsecr.Repository_FromRepositoryName(scope, jsii.String("Repository"), jsii.String(repository))
		return awsecs.ContainerImage_FromEcrRepository(repo, jsii.String(service+"-"+tag))
	}
}
