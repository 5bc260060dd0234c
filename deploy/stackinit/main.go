// Command stackinit creates, once, what the services expect to exist: the journal, snapshot, idempotency and
// entity tables and the snapshot bucket (as the writer's DYNAMODB_CREATE_TABLES would), the relay's lease table
// and the event topics. It is the one-shot init of docker-compose.yml; everything it makes is left as it is when
// it exists already, so it may run any number of times. In AWS the infrastructure code owns all of it.
//
// It reads the services' variables (AWS_*, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, KAFKA_TOPIC_PARTITIONS,
// DYNAMODB_TABLE_PREFIX, SNAPSHOT_BUCKET, RELAY_LEASE_TABLE) and STACKINIT_TIMEOUT, retries while the servers do
// not answer, and exits 0 once everything exists, 1 on a failure or when the timeout passes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/logging"
)

const name = "stackinit"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}

// run loads the configuration, initializes the stack and returns the exit code.
func run(ctx context.Context) int {
	cfg, err := config.Load[Config]("")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	log, err := logging.New(os.Stderr, cfg.Log, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Init.Timeout)
	defer cancel()
	if err := Initialize(ctx, cfg, log); err != nil {
		log.Error("init failed", "error", err)
		return 1
	}
	log.Info("stack initialized", "table_prefix", cfg.Init.TablePrefix, "bucket", cfg.Init.SnapshotBucket,
		"lease_table", cfg.Init.LeaseTable, "topic_prefix", cfg.Kafka.TopicPrefix, "partitions", cfg.Init.Partitions)
	return 0
}
