package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
	"github.com/cqrses-aws/pipeline/internal/platform/postgres"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/searchclient"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/projectors/supervisor"
	"github.com/cqrses-aws/pipeline/projectors/views"
)

// deps are the projections and the journal, built on the clients of the configuration.
type deps struct {
	projections []projection.Projection
	journal     runner.Journal
	closers     []func()
}

// openDeps builds the clients (through svc, which adds readiness checks and closes them, when svc is not nil),
// the projections and the journal reader. It fails when a configuration is invalid.
func openDeps(ctx context.Context, cfg Config, svc *service.Service) (*deps, error) {
	d := &deps{}
	var (
		pool    *pgxpool.Pool
		clients *awsclient.Clients
		err     error
	)
	if svc != nil {
		if pool, err = svc.Postgres(ctx, cfg.Postgres, cfg.AWS); err != nil {
			return nil, err
		}
		if clients, err = svc.AWS(ctx, cfg.AWS); err != nil {
			return nil, err
		}
	} else {
		if pool, err = postgres.NewPool(ctx, cfg.Postgres, cfg.AWS); err != nil {
			return nil, err
		}
		d.closers = append(d.closers, pool.Close)
		if clients, err = awsclient.New(ctx, cfg.AWS); err != nil {
			return nil, errors.Join(err, d.close())
		}
	}
	searchClient, err := newSearchClient(ctx, cfg, svc)
	if err != nil {
		return nil, errors.Join(err, d.close())
	}
	viewsP, err := views.New(pool, views.Config{Name: cfg.Projectors.ViewsName})
	if err != nil {
		return nil, errors.Join(err, d.close())
	}
	searchP, err := search.New(searchClient, search.Config{Name: cfg.Projectors.SearchName})
	if err != nil {
		return nil, errors.Join(err, d.close())
	}
	journal, err := eventstore.NewDynamoDB(eventstore.DynamoDBConfig{
		DynamoDB: clients.DynamoDB, S3: clients.S3, Bucket: cfg.Projectors.SnapshotBucket,
		Tables: eventstore.TablesWithPrefix(cfg.Projectors.TablePrefix),
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("journal reader: %w", err), d.close())
	}
	d.projections = []projection.Projection{viewsP, searchP}
	d.journal = journal
	return d, nil
}

// newSearchClient builds the search client the configuration names (see search.NewClient); opensearch-go is
// SigV4-signed when SEARCH_SIGV4 is set, and checked for readiness when svc is set.
func newSearchClient(ctx context.Context, cfg Config, svc *service.Service) (search.Client, error) {
	return search.NewClient(cfg.Search, cfg.Projectors.AcceptOpenSearch, func() (*opensearchapi.Client, error) {
		if svc != nil {
			return svc.OpenSearch(ctx, cfg.Search, cfg.AWS)
		}
		var sdk aws.Config
		if cfg.Search.SigV4 {
			var err error
			if sdk, err = awsclient.LoadSDKConfig(ctx, cfg.AWS); err != nil {
				return nil, err
			}
		}
		return searchclient.NewOpenSearch(cfg.Search, sdk)
	})
}

// supervisor builds the supervisor of the projections, its metrics registered in reg (nil: none).
func (d *deps) supervisor(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*supervisor.Supervisor, error) {
	var metrics *runner.Metrics
	if reg != nil {
		var err error
		if metrics, err = runner.NewMetrics(reg); err != nil {
			return nil, err
		}
	}
	return supervisor.New(supervisor.Config{
		Runner: runner.Config{
			Kafka: cfg.Kafka, BatchSize: cfg.Projectors.BatchSize, Journal: d.journal, Logger: log, Metrics: metrics,
			ClientOpts: sessionOpts(cfg.Projectors.SessionTimeout),
		},
		BuildBatchSize: cfg.Projectors.BuildBatchSize,
		Partitions:     cfg.Projectors.Partitions,
		PollInterval:   cfg.Projectors.PollInterval,
		DrainTimeout:   cfg.Projectors.DrainTimeout,
	})
}

// sessionOpts are the consumer group session settings for timeout: heartbeats a tenth of it apart, as the
// coordinator needs several missed ones before it gives up on a member. Zero keeps the client's defaults.
func sessionOpts(timeout time.Duration) []kgo.Opt {
	if timeout <= 0 {
		return nil
	}
	return []kgo.Opt{kgo.SessionTimeout(timeout), kgo.HeartbeatInterval(timeout / 10)}
}

// close releases what openDeps opened itself (not what svc owns).
func (d *deps) close() error {
	for _, c := range d.closers {
		c()
	}
	d.closers = nil
	return nil
}
