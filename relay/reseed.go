package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
	"github.com/cqrses-aws/pipeline/internal/platform/logging"
	"github.com/cqrses-aws/pipeline/relay/forward"
	"github.com/cqrses-aws/pipeline/relay/reseed"
)

// reseedMain is the `relay reseed` command: it publishes events from the journal table and exits.
type reseedMain struct {
	cfg       Config
	aggregate string
	out       io.Writer
}

// newReseed parses the reseed command's flags and returns its constructor.
func newReseed(args []string) func(context.Context, Config, io.Writer) (*reseedMain, error) {
	return func(_ context.Context, cfg Config, out io.Writer) (*reseedMain, error) {
		fs := flag.NewFlagSet("relay reseed", flag.ContinueOnError)
		aggregate := fs.String("aggregate", "", "publish only this aggregate's events (default: every aggregate)")
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() > 0 {
			return nil, fmt.Errorf("reseed: unexpected arguments %v", fs.Args())
		}
		return &reseedMain{cfg: cfg, aggregate: *aggregate, out: out}, nil
	}
}

// Run publishes the events, logging per aggregate, and returns the first failure.
func (m *reseedMain) Run(ctx context.Context) error {
	log, err := logging.New(m.out, m.cfg.Log, name)
	if err != nil {
		return err
	}
	clients, err := awsclient.New(ctx, m.cfg.AWS)
	if err != nil {
		return err
	}
	producer, err := kafka.NewClient(m.cfg.Kafka, forward.ProducerOpts()...)
	if err != nil {
		return err
	}
	defer producer.Close()
	topics := kafka.EventTopics(m.cfg.Kafka.TopicPrefix, m.cfg.Relay.Partitions)
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(producer), topics...); err != nil {
		return err
	}
	s := reseed.Seeder{
		DB: clients.DynamoDB, Table: eventstore.TablesWithPrefix(m.cfg.Relay.TablePrefix).Journal,
		TopicPrefix: m.cfg.Kafka.TopicPrefix, Publisher: forward.KafkaPublisher{Client: producer},
	}
	var n int
	if m.aggregate != "" {
		n, err = s.Aggregate(ctx, m.aggregate)
	} else {
		n, err = s.All(ctx, func(id string, events int) { log.Info("aggregate re-seeded", "aggregate", id, "events", events) })
	}
	if err != nil {
		return fmt.Errorf("reseed after %d events: %w", n, err)
	}
	log.Info("re-seed done", "events", n, slog.String("table", s.Table))
	return nil
}
