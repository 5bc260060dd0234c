// Package awsclient builds the AWS SDK clients (DynamoDB, DynamoDB Streams, S3) from the typed configuration, so
// every service and test reaches real AWS or the local stack's moto server the same way.
package awsclient

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// Clients holds one client per AWS API the project uses; they are safe for concurrent use.
type Clients struct {
	DynamoDB *dynamodb.Client
	Streams  *dynamodbstreams.Client
	S3       *s3.Client
}

// New loads the SDK configuration (static keys when given, else the default credential chain) and builds the
// clients; with an EndpointURL every client talks to that endpoint (or to the service's own endpoint setting), S3
// with path-style addressing. It returns an
// error when the configuration is invalid or the SDK cannot load it.
func New(ctx context.Context, cfg config.AWS) (*Clients, error) {
	sdk, err := LoadSDKConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	dynamo, objects := endpointOf(cfg.DynamoDBEndpoint()), endpointOf(cfg.S3Endpoint())
	return &Clients{
		DynamoDB: dynamodb.NewFromConfig(sdk, func(o *dynamodb.Options) { o.BaseEndpoint = dynamo }),
		Streams:  dynamodbstreams.NewFromConfig(sdk, func(o *dynamodbstreams.Options) { o.BaseEndpoint = dynamo }),
		S3: s3.NewFromConfig(sdk, func(o *s3.Options) {
			o.BaseEndpoint = objects
			// Virtual-host addressing needs DNS for bucket.host; a local endpoint has none.
			o.UsePathStyle = objects != nil
		}),
	}, nil
}

// endpointOf is the BaseEndpoint option of url: nil (the service's own) when empty.
func endpointOf(url string) *string {
	if url == "" {
		return nil
	}
	return aws.String(url)
}

// LoadSDKConfig validates cfg and loads the SDK configuration: its region, and static keys when given, else the
// default credential chain (environment, web identity, ECS or EC2 roles). Other SDK users (the SigV4 signer of
// the search client) share it.
func LoadSDKConfig(ctx context.Context, cfg config.AWS) (aws.Config, error) {
	if err := cfg.Validate(); err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region), awsconfig.WithHTTPClient(httpClient())}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey.Reveal(), "")))
	}
	sdk, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws sdk config: %w", err)
	}
	return sdk, nil
}

// idleConnsPerHost is how many idle connections the clients keep to one endpoint. The SDK's default keeps ten:
// a writer with a hundred commands in flight closed ninety connections after every burst and opened them again
// (a TLS handshake each in AWS; a new thread each in the local moto), which made slow moments slower.
const idleConnsPerHost = 256

// httpClient is the SDK's HTTP client with room for idleConnsPerHost idle connections per endpoint.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = idleConnsPerHost
		t.MaxIdleConnsPerHost = idleConnsPerHost
	})
}

// PingDynamoDB is a readiness probe: it succeeds when the DynamoDB API answers a one-item ListTables.
func (c *Clients) PingDynamoDB(ctx context.Context) error {
	if _, err := c.DynamoDB.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		return fmt.Errorf("dynamodb list tables: %w", err)
	}
	return nil
}
