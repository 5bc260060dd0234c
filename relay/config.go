package main

import (
	"errors"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

// defaultAddr is where the relay serves its operational endpoints when HTTP_ADDR is not set: loopback only;
// containers set HTTP_ADDR=0.0.0.0:8082.
const defaultAddr = "127.0.0.1:8082"

// Config is the relay's configuration, read from unprefixed environment variables so that one .local/env
// configures every service.
type Config struct {
	HTTP    config.HTTP
	Log     config.Log
	AWS     config.AWS
	Kafka   config.Kafka
	Relay   RelayConfig
	Tracing tracing.Config
}

// RelayConfig names the journal and lease tables and tunes topics and leases.
type RelayConfig struct {
	// TablePrefix names the journal table, <prefix>-journal, as the writer does.
	TablePrefix string `env:"DYNAMODB_TABLE_PREFIX" envDefault:"chat"`
	// LeaseTable holds the shard leases and checkpoints (default <prefix>-relay-leases).
	LeaseTable string `env:"RELAY_LEASE_TABLE"`
	// CreateTables creates the lease table at start when missing: for the local stack and tests; in AWS the
	// infrastructure code owns it.
	CreateTables bool `env:"DYNAMODB_CREATE_TABLES"`
	// Partitions is the partition count of the event topics the relay creates when they are missing.
	Partitions int32 `env:"KAFKA_TOPIC_PARTITIONS" envDefault:"12"`
	// Owner names this instance in the leases (default: host, process id and a random suffix).
	Owner     string        `env:"RELAY_OWNER"`
	LeaseTTL  time.Duration `env:"RELAY_LEASE_TTL" envDefault:"10s"`
	ScanEvery time.Duration `env:"RELAY_SCAN_INTERVAL" envDefault:"2s"`
	IdleWait  time.Duration `env:"RELAY_IDLE_WAIT" envDefault:"250ms"`
	// BusyWait replaces IdleWait while a shard is busy; a value over IdleWait is taken as IdleWait.
	BusyWait time.Duration `env:"RELAY_BUSY_WAIT" envDefault:"50ms"`
}

// Validate returns every problem joined, each naming its environment variable.
func (r RelayConfig) Validate() error {
	var errs []error
	if r.TablePrefix == "" {
		errs = append(errs, errors.New("DYNAMODB_TABLE_PREFIX is required"))
	}
	if r.Partitions < 1 {
		errs = append(errs, errors.New("KAFKA_TOPIC_PARTITIONS must be positive"))
	}
	if r.LeaseTTL < time.Second {
		errs = append(errs, errors.New("RELAY_LEASE_TTL must be at least 1s"))
	}
	if r.ScanEvery <= 0 || r.IdleWait <= 0 || r.BusyWait <= 0 {
		errs = append(errs, errors.New("RELAY_SCAN_INTERVAL, RELAY_IDLE_WAIT and RELAY_BUSY_WAIT must be positive"))
	}
	return errors.Join(errs...)
}

// ApplyDefaults sets the relay's listen address and the lease table's name when they are not set.
func (c *Config) ApplyDefaults() {
	c.HTTP = c.HTTP.WithDefaultAddr(defaultAddr)
	if c.Relay.LeaseTable == "" {
		c.Relay.LeaseTable = c.Relay.TablePrefix + "-relay-leases"
	}
}

// Validate returns every problem of every block joined, each naming its environment variable.
func (c *Config) Validate() error {
	return errors.Join(c.HTTP.Validate(), c.Log.Validate(), c.AWS.Validate(), c.Kafka.Validate(), c.Relay.Validate(),
		c.Tracing.Validate())
}
