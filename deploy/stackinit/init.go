package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
	"github.com/cqrses-aws/pipeline/relay/lease"
)

// Initialize creates the journal tables and bucket, the lease table and the event topics with the functions
// the services themselves use, each retried (with backoff) until it succeeds or ctx ends; it returns the last
// error of the step that did not finish, naming it.
func Initialize(ctx context.Context, cfg Config, log *slog.Logger) error {
	clients, err := awsclient.New(ctx, cfg.AWS)
	if err != nil {
		return err
	}
	store, err := eventstore.NewDynamoDB(eventstore.DynamoDBConfig{
		DynamoDB: clients.DynamoDB, S3: clients.S3, Tables: eventstore.TablesWithPrefix(cfg.Init.TablePrefix),
		Bucket: cfg.Init.SnapshotBucket,
	})
	if err != nil {
		return err
	}
	leases := lease.NewTable(clients.DynamoDB, cfg.Init.LeaseTable, nil)
	cl, err := kafka.NewClient(cfg.Kafka)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topics := kafka.EventTopics(cfg.Kafka.TopicPrefix, cfg.Init.Partitions)

	steps := []struct {
		what string
		do   func(context.Context) error
	}{
		{"journal tables and snapshot bucket", store.CreateTables},
		{"lease table", leases.Create},
		{"event topics", func(ctx context.Context) error { return kafka.EnsureTopics(ctx, adm, topics...) }},
	}
	for _, s := range steps {
		if err := retry(ctx, log, s.what, s.do); err != nil {
			return err
		}
	}
	return nil
}

// retry calls do until it succeeds, backing off from 200 ms to 5 s between calls; when ctx ends first it returns
// do's last error (or ctx's) wrapped with what.
func retry(ctx context.Context, log *slog.Logger, what string, do func(context.Context) error) error {
	for delay := 200 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		err := do(ctx)
		if err == nil {
			log.Info(what + " ready")
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Warn(what+" not ready yet; retrying", "error", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}
