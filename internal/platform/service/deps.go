package service

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/postgres"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/internal/searchclient"
)

// Readiness check names, as /readyz reports them.
const (
	CheckDynamoDB = "dynamodb"
	CheckKafka    = "kafka"
	CheckPostgres = "postgres"
	CheckSearch   = "search"
)

// The constructors below build clients without contacting the servers, so a service starts while a dependency
// is down and reports it on /readyz instead of crash-looping.

// AWS builds the DynamoDB, DynamoDB Streams and S3 clients and adds the "dynamodb" readiness check; it returns
// an error when the AWS configuration is invalid or cannot be loaded.
func (s *Service) AWS(ctx context.Context, cfg config.AWS) (*awsclient.Clients, error) {
	cl, err := awsclient.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.AddCheck(CheckDynamoDB, cl.PingDynamoDB)
	return cl, nil
}

// Kafka builds a franz-go client with opts added (client id defaulting to the service name), adds the "kafka"
// readiness check and closes the client on Close; it returns an error when the configuration or an option is
// rejected.
func (s *Service) Kafka(cfg config.Kafka, opts ...kgo.Opt) (*kgo.Client, error) {
	if cfg.ClientID == "" {
		cfg.ClientID = s.cfg.Name
	}
	cl, err := kafka.NewClient(cfg, opts...)
	if err != nil {
		return nil, err
	}
	s.AddCheck(CheckKafka, func(ctx context.Context) error { return kafka.Ping(ctx, cl) })
	s.OnClose("kafka", func() error { cl.Close(); return nil })
	return cl, nil
}

// Postgres opens a connection pool with the credentials cfg names (see postgres.PoolConfig: the URL's password, an
// RDS IAM token, or a Secrets Manager secret; awsCfg serves the last two), adds the "postgres" readiness check
// and closes the pool on Close; connections are made on first use. It returns an error when a configuration is
// invalid.
func (s *Service) Postgres(ctx context.Context, cfg config.Postgres, awsCfg config.AWS) (*pgxpool.Pool, error) {
	pool, err := postgres.NewPool(ctx, cfg, awsCfg)
	if err != nil {
		return nil, err
	}
	s.AddCheck(CheckPostgres, pool.Ping)
	s.OnClose("postgres", func() error { pool.Close(); return nil })
	return pool, nil
}

// OpenSearch builds an opensearch-go client (SigV4-signed with the AWS configuration when cfg.SigV4 is set) and
// adds the "search" readiness check, a cluster health request that Elasticsearch answers alike; it returns an
// error when either configuration is invalid.
func (s *Service) OpenSearch(ctx context.Context, cfg config.Search, awsCfg config.AWS) (*opensearchapi.Client, error) {
	var sdk aws.Config
	if cfg.SigV4 {
		var err error
		if sdk, err = awsclient.LoadSDKConfig(ctx, awsCfg); err != nil {
			return nil, err
		}
	}
	cl, err := searchclient.NewOpenSearch(cfg, sdk)
	if err != nil {
		return nil, err
	}
	s.AddCheck(CheckSearch, func(ctx context.Context) error { return searchclient.PingOpenSearch(ctx, cl) })
	return cl, nil
}

// Tracing sets up the process's tracer provider from cfg (see tracing.Setup; nothing when tracing is off) with
// the service's name, and flushes and stops it on Close. Call it before the other clients: closers run in the
// reverse order of their registration, so the spans of the shutdown itself are flushed too.
func (s *Service) Tracing(ctx context.Context, cfg tracing.Config) error {
	shutdown, err := tracing.Setup(ctx, cfg, s.cfg.Name, s.log)
	if err != nil {
		return err
	}
	s.OnClose("tracing", tracing.Closer(shutdown))
	return nil
}
