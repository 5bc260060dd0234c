package main

import (
	"context"
	"fmt"
	"io"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
	"github.com/cqrses-aws/pipeline/writer/adapters"
)

// backfillCommand is the argument that runs the backfill instead of the server: `writer backfill-messages`.
const backfillCommand = "backfill-messages"

// backfillSegments is how many parts of the journal the backfill scans at once.
const backfillSegments = 4

// backfillMain writes the entity of every message already in the journal (adapters.BackfillMessages), prints
// what it wrote and exits: the one step of upgrading a journal written before messages were entities.
type backfillMain struct {
	store *eventstore.DynamoDB
	out   io.Writer
}

// newBackfillMain builds the backfill on the writer's configuration (the journal's tables and AWS settings); it
// fails when the configuration is invalid.
func newBackfillMain(ctx context.Context, cfg Config, out io.Writer) (*backfillMain, error) {
	clients, err := awsclient.New(ctx, cfg.AWS)
	if err != nil {
		return nil, err
	}
	store, err := eventstore.NewDynamoDB(eventstore.DynamoDBConfig{
		DynamoDB: clients.DynamoDB, S3: clients.S3, Tables: eventstore.TablesWithPrefix(cfg.Journal.TablePrefix),
		Bucket: cfg.Journal.SnapshotBucket, CallTimeout: cfg.Journal.CallTimeout,
	})
	if err != nil {
		return nil, err
	}
	return &backfillMain{store: store, out: out}, nil
}

// Run scans the journal and writes the message entities; it returns the first failure. Running it again
// writes the same again.
func (b *backfillMain) Run(ctx context.Context) error {
	counts, err := adapters.BackfillMessages(ctx, b.store, backfillSegments)
	fmt.Fprintf(b.out, "message entities written: %d posted, %d deleted\n", counts.Posted, counts.Deleted)
	return err
}
