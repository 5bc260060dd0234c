// Command aws synthesizes the pipeline's CloudFormation template (cdk synth / cdk deploy run it, see cdk.json).
// Context values (-c name=value) choose the environment: env, partitions, imageRepository and imageTag (images
// pushed to ECR beforehand; default: built from deploy/Dockerfile by the CDK), jwksUrl, jwtIssuer, jwtAudience,
// certificateArn, alarmEmail.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/cqrses-aws/pipeline/deploy/aws/pipeline"
)

// repoRoot is the repository's root seen from deploy/aws, where cdk runs: the images' build context.
const repoRoot = "../.."

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if err := build(app, repoRoot); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	app.Synth(nil)
}

// build adds the stack "Pipeline-<env>" to app, configured by app's context; it fails on a malformed value.
func build(app awscdk.App, root string) error {
	ctx := func(name string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(name)).(string); ok {
			return v
		}
		return ""
	}
	p := pipeline.Props{
		EnvName: ctx("env"), AuthJWKSURL: ctx("jwksUrl"), AuthIssuer: ctx("jwtIssuer"), AuthAudience: ctx("jwtAudience"),
		CertificateARN: ctx("certificateArn"), AlarmEmail: ctx("alarmEmail"), Images: pipeline.AssetImages(root),
	}
	if v := ctx("partitions"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("context partitions %q: %w", v, err)
		}
		p.Partitions = n
	}
	if repo := ctx("imageRepository"); repo != "" {
		tag := ctx("imageTag")
		if tag == "" {
			return fmt.Errorf("context imageTag is required with imageRepository %q", repo)
		}
		p.Images = pipeline.ECRImages(repo, tag)
	}
	// The account and region of the CLI's profile, when cdk runs this; none in tests (an agnostic template).
	if account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"); account != "" && region != "" {
		p.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	name := p.EnvName
	if name == "" {
		name = "dev"
	}
	_, err := pipeline.NewPipelineStack(app, "Pipeline-"+name, p)
	return err
}
