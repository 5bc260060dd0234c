package config

import (
	"errors"
)

// AWS configures the AWS SDK clients; an empty EndpointURL means real AWS, and empty keys mean
// the SDK's default credential chain.
type AWS struct {
	Region          string `env:"AWS_REGION" envDefault:"us-east-1"`
	EndpointURL     string `env:"AWS_ENDPOINT_URL"`
	AccessKeyID     string `env:"AWS_ACCESS_KEY_ID"`
	SecretAccessKey Secret `env:"AWS_SECRET_ACCESS_KEY"`
}

// Validate returns every problem joined: region required, endpoint an absolute http(s) URL when
// set, and the access key pair set together or not at all.
func (a AWS) Validate() error {
	var errs []error
	if a.Region == "" {
		errs = append(errs, errors.New("AWS_REGION is required"))
	}
	if a.EndpointURL != "" {
		errs = append(errs, checkHTTPURL("AWS_ENDPOINT_URL", a.EndpointURL))
	}
	if (a.AccessKeyID == "") != (a.SecretAccessKey == "") {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together"))
	}
	return errors.Join(errs...)
}
