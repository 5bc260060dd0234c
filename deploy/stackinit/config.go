package main

import (
	"errors"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// Config is the init command's configuration, read from the same unprefixed variables as the services, so one
// environment names the same tables, bucket and topics for all of them.
type Config struct {
	Log   config.Log
	AWS   config.AWS
	Kafka config.Kafka
	Init  InitConfig
}

// InitConfig names what the init creates and bounds how long it keeps trying.
type InitConfig struct {
	// TablePrefix names the journal, snapshot, idempotency and entity tables (<prefix>-journal, …), as the writer
	// does.
	TablePrefix string `env:"DYNAMODB_TABLE_PREFIX" envDefault:"chat"`
	// SnapshotBucket is the writer's S3 bucket for large snapshots.
	SnapshotBucket string `env:"SNAPSHOT_BUCKET" envDefault:"chat-snapshots"`
	// LeaseTable is the relay's lease table (default <prefix>-relay-leases, as the relay's).
	LeaseTable string `env:"RELAY_LEASE_TABLE"`
	// Partitions is the partition count of the event topics.
	Partitions int32 `env:"KAFKA_TOPIC_PARTITIONS" envDefault:"12"`
	// Timeout bounds the whole init, retries included: the servers may still be starting.
	Timeout time.Duration `env:"STACKINIT_TIMEOUT" envDefault:"2m"`
}

// ApplyDefaults names the lease table after the table prefix when RELAY_LEASE_TABLE is not set.
func (c *Config) ApplyDefaults() {
	if c.Init.LeaseTable == "" {
		c.Init.LeaseTable = c.Init.TablePrefix + "-relay-leases"
	}
}

// Validate returns every problem of every block joined, each naming its environment variable.
func (c *Config) Validate() error {
	var errs []error
	if c.Init.TablePrefix == "" {
		errs = append(errs, errors.New("DYNAMODB_TABLE_PREFIX is required"))
	}
	if c.Init.SnapshotBucket == "" {
		errs = append(errs, errors.New("SNAPSHOT_BUCKET is required"))
	}
	if c.Init.Partitions < 1 {
		errs = append(errs, errors.New("KAFKA_TOPIC_PARTITIONS must be positive"))
	}
	if c.Init.Timeout <= 0 {
		errs = append(errs, errors.New("STACKINIT_TIMEOUT must be positive"))
	}
	return errors.Join(c.Log.Validate(), c.AWS.Validate(), c.Kafka.Validate(), errors.Join(errs...))
}
