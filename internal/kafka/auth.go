package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	awssasl "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// Options returns the options every client of the project gets from cfg: seed brokers, client id, and TLS and
// SASL when the cluster is secured (AWS_MSK_IAM signs with the default AWS credential chain, read per
// connection). It returns an error when cfg is invalid.
func Options(cfg config.Kafka) ([]kgo.Opt, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka config: %w", err)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}
	if cfg.ClientID != "" {
		opts = append(opts, kgo.ClientID(cfg.ClientID))
	}
	if cfg.TLS {
		// franz-go clones this per dial and sets ServerName to the broker's host.
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	if m := mechanism(cfg); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// mechanism returns the SASL mechanism cfg names, or nil for none; cfg is valid.
func mechanism(cfg config.Kafka) sasl.Mechanism {
	user, pass := cfg.SASLUsername, cfg.SASLPassword.Reveal()
	switch cfg.SASLMechanism {
	case config.SASLAWSMSKIAM:
		return awssasl.ManagedStreamingIAM(new(defaultChain).auth)
	case config.SASLPlain:
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case config.SASLScramSHA256:
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case config.SASLScramSHA512:
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	default:
		return nil
	}
}

// defaultChain hands AWS_MSK_IAM the credentials of the SDK's default chain (environment, web identity, ECS task
// role, EC2 instance role). The chain is loaded on the first connection, not when the client is built, so a
// client builds offline; its cache renews temporary credentials before they expire. Safe for concurrent use.
type defaultChain struct {
	mu    sync.Mutex
	creds aws.CredentialsProvider
}

func (d *defaultChain) auth(ctx context.Context) (awssasl.Auth, error) {
	creds, err := d.provider(ctx)
	if err != nil {
		return awssasl.Auth{}, err
	}
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return awssasl.Auth{}, fmt.Errorf("aws credentials for AWS_MSK_IAM: %w", err)
	}
	return awssasl.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
}

func (d *defaultChain) provider(ctx context.Context) (aws.CredentialsProvider, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.creds != nil {
		return d.creds, nil
	}
	sdk, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws credential chain for AWS_MSK_IAM: %w", err)
	}
	if sdk.Credentials == nil {
		return nil, errors.New("load aws credential chain for AWS_MSK_IAM: no credentials provider")
	}
	d.creds = sdk.Credentials
	return d.creds, nil
}
