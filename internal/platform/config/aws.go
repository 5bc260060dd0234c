package config

import (
	"cmp"
	"errors"
)

// AWS configures the AWS SDK clients; an empty EndpointURL means real AWS, and empty keys mean
// the SDK's default credential chain.
type AWS struct {
	Region      string `env:"AWS_REGION" envDefault:"us-east-1"`
	EndpointURL string `env:"AWS_ENDPOINT_URL"`
	// EndpointDynamoDB and EndpointS3 override EndpointURL for one service (the SDK's own variable names): a
	// local DynamoDB emulator (DynamoDB Streams included) beside a local S3 server, say.
	EndpointDynamoDB string `env:"AWS_ENDPOINT_URL_DYNAMODB"`
	EndpointS3       string `env:"AWS_ENDPOINT_URL_S3"`
	AccessKeyID      string `env:"AWS_ACCESS_KEY_ID"`
	SecretAccessKey  Secret `env:"AWS_SECRET_ACCESS_KEY"`
}

// Validate returns every problem joined: region required, endpoints absolute http(s) URLs when
// set, and the access key pair set together or not at all.
func (a AWS) Validate() error {
	var errs []error
	if a.Region == "" {
		errs = append(errs, errors.New("AWS_REGION is required"))
	}
	for name, url := range map[string]string{
		"AWS_ENDPOINT_URL": a.EndpointURL, "AWS_ENDPOINT_URL_DYNAMODB": a.EndpointDynamoDB, "AWS_ENDPOINT_URL_S3": a.EndpointS3,
	} {
		if url != "" {
			errs = append(errs, checkHTTPURL(name, url))
		}
	}
	if (a.AccessKeyID == "") != (a.SecretAccessKey == "") {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together"))
	}
	return errors.Join(errs...)
}

// DynamoDBEndpoint returns the endpoint of DynamoDB and its streams: EndpointDynamoDB, else EndpointURL ("" for
// AWS's).
func (a AWS) DynamoDBEndpoint() string { return cmp.Or(a.EndpointDynamoDB, a.EndpointURL) }

// S3Endpoint returns the endpoint of S3: EndpointS3, else EndpointURL ("" for AWS's).
func (a AWS) S3Endpoint() string { return cmp.Or(a.EndpointS3, a.EndpointURL) }
