package main

import (
	"errors"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

// defaultAddr is where the projectors serve their operational endpoints when HTTP_ADDR is not set: loopback
// only; containers set HTTP_ADDR=0.0.0.0:8083.
const defaultAddr = "127.0.0.1:8083"

// Config is the projectors' configuration, read from unprefixed environment variables so that one .local/env
// configures every service. AWS signs search requests when SEARCH_SIGV4 is set, and reaches the journal that
// fills gaps.
type Config struct {
	HTTP       config.HTTP
	Log        config.Log
	AWS        config.AWS
	Kafka      config.Kafka
	Postgres   config.Postgres
	Search     config.Search
	Projectors ProjectorsConfig
	Tracing    tracing.Config
}

// ProjectorsConfig tunes the runners and names the journal read to fill gaps.
type ProjectorsConfig struct {
	// BatchSize is the most events one batch applies.
	BatchSize int `env:"PROJECTORS_BATCH_SIZE" envDefault:"5000"`
	// BuildBatchSize is the most events one batch of a version being built from offset zero applies: nobody
	// reads that version yet, and a read model's per-batch costs (state reads and writes) are paid fewer times.
	BuildBatchSize int `env:"PROJECTORS_BUILD_BATCH_SIZE" envDefault:"20000"`
	// Partitions is the partition count of the topics created when missing.
	Partitions int32 `env:"KAFKA_TOPIC_PARTITIONS" envDefault:"12"`
	// PollInterval is how often the live versions and the lag are checked.
	PollInterval time.Duration `env:"PROJECTORS_POLL_INTERVAL" envDefault:"2s"`
	// SessionTimeout is how long the group coordinator waits for a silent projectors process (killed, partitioned
	// off) before it hands that process's partitions to the others: the most a crash stalls them.
	SessionTimeout time.Duration `env:"PROJECTORS_SESSION_TIMEOUT" envDefault:"10s"`
	// DrainTimeout bounds the wait for an old version's consumers to leave before it is dropped.
	DrainTimeout time.Duration `env:"PROJECTORS_DRAIN_TIMEOUT" envDefault:"1m"`
	// TablePrefix names the journal table (<prefix>-journal) gaps are filled from, as the writer does.
	TablePrefix string `env:"DYNAMODB_TABLE_PREFIX" envDefault:"chat"`
	// SnapshotBucket is the writer's snapshot bucket (the journal reader needs its name; it reads no snapshot).
	SnapshotBucket string `env:"SNAPSHOT_BUCKET" envDefault:"chat-snapshots"`
	// ViewsName is the stable name of the Postgres views (schema "<name>", targets "<name>_v<N>").
	ViewsName string `env:"PROJECTORS_VIEWS_NAME" envDefault:"views"`
	// SearchName is the search alias (targets: indices "<name>_v<N>").
	SearchName string `env:"PROJECTORS_SEARCH_NAME" envDefault:"search"`
	// AcceptOpenSearch lets the Elasticsearch client (SEARCH_FLAVOR=elasticsearch) talk to OpenSearch.
	AcceptOpenSearch bool `env:"SEARCH_ACCEPT_OPENSEARCH"`
}

// Validate returns every problem joined, each naming its environment variable.
func (p ProjectorsConfig) Validate() error {
	var errs []error
	if p.BatchSize < 1 {
		errs = append(errs, errors.New("PROJECTORS_BATCH_SIZE must be positive"))
	}
	if p.BuildBatchSize < 1 {
		errs = append(errs, errors.New("PROJECTORS_BUILD_BATCH_SIZE must be positive"))
	}
	if p.Partitions < 1 {
		errs = append(errs, errors.New("KAFKA_TOPIC_PARTITIONS must be positive"))
	}
	if p.PollInterval <= 0 || p.DrainTimeout <= 0 {
		errs = append(errs, errors.New("PROJECTORS_POLL_INTERVAL and PROJECTORS_DRAIN_TIMEOUT must be positive"))
	}
	// The brokers refuse a session outside group.min/max.session.timeout.ms (6 s to 30 min by default).
	if p.SessionTimeout < 6*time.Second || p.SessionTimeout > 30*time.Minute {
		errs = append(errs, errors.New("PROJECTORS_SESSION_TIMEOUT must be between 6s and 30m"))
	}
	if p.TablePrefix == "" {
		errs = append(errs, errors.New("DYNAMODB_TABLE_PREFIX is required"))
	}
	return errors.Join(errs...)
}

// ApplyDefaults sets the projectors' listen address when HTTP_ADDR is not set.
func (c *Config) ApplyDefaults() { c.HTTP = c.HTTP.WithDefaultAddr(defaultAddr) }

// Validate returns every problem of every block joined, each naming its environment variable.
func (c *Config) Validate() error {
	return errors.Join(c.HTTP.Validate(), c.Log.Validate(), c.AWS.Validate(), c.Kafka.Validate(),
		c.Postgres.Validate(), c.Search.Validate(), c.Projectors.Validate(), c.Tracing.Validate())
}
