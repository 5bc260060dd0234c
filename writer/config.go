package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

// defaultAddr is where the writer listens when HTTP_ADDR is not set: loopback only, so a developer's machine
// does not expose it; containers set HTTP_ADDR=0.0.0.0:8080.
const defaultAddr = "127.0.0.1:8080"

// Config is the writer's configuration, read from unprefixed environment variables so that one .local/env
// configures every service.
type Config struct {
	HTTP      config.HTTP
	Log       config.Log
	AWS       config.AWS
	Auth      auth.Config
	RateLimit ratelimit.Config
	Journal   JournalConfig
	Command   CommandConfig
	Tracing   tracing.Config
	// Consistency is the key that signs the commands' consistency tokens; the query API verifies with the same.
	Consistency consistency.Config
}

// CommandConfig bounds the time a command may take, so no request holds an aggregate or a goroutine without end.
type CommandConfig struct {
	// Timeout is each command request's deadline: the wait for its aggregate behind other commands, every
	// DynamoDB and S3 call, and their retries; past it the command answers 503 with Retry-After.
	Timeout time.Duration `env:"WRITER_COMMAND_TIMEOUT" envDefault:"10s"`
}

// Validate returns every problem joined, each naming its environment variable.
func (c CommandConfig) Validate() error {
	if c.Timeout <= 0 {
		return errors.New("WRITER_COMMAND_TIMEOUT must be positive")
	}
	return nil
}

// JournalConfig names the event store's tables and bucket and tunes snapshots and the hot aggregate cache.
type JournalConfig struct {
	TablePrefix    string `env:"DYNAMODB_TABLE_PREFIX" envDefault:"chat"`
	SnapshotBucket string `env:"SNAPSHOT_BUCKET" envDefault:"chat-snapshots"`
	// CreateTables creates the tables and the bucket at start when missing: for the local stack and tests; in
	// AWS the infrastructure code owns them.
	CreateTables           bool  `env:"DYNAMODB_CREATE_TABLES"`
	SnapshotEvery          int64 `env:"SNAPSHOT_EVERY" envDefault:"100"`
	InlineSnapshotMaxBytes int   `env:"SNAPSHOT_INLINE_MAX_BYTES" envDefault:"65536"`
	CacheEntries           int   `env:"AGGREGATE_CACHE_ENTRIES" envDefault:"10000"`
	CacheBytes             int   `env:"AGGREGATE_CACHE_BYTES" envDefault:"268435456"`
	// CallTimeout bounds each DynamoDB and S3 call (with the SDK's retries), within the command's deadline.
	CallTimeout time.Duration `env:"DYNAMODB_CALL_TIMEOUT" envDefault:"5s"`
}

// Validate returns every problem joined, each naming its environment variable.
func (j JournalConfig) Validate() error {
	var errs []error
	if j.TablePrefix == "" {
		errs = append(errs, errors.New("DYNAMODB_TABLE_PREFIX is required"))
	}
	if j.SnapshotBucket == "" {
		errs = append(errs, errors.New("SNAPSHOT_BUCKET is required"))
	}
	for name, v := range map[string]int64{
		"SNAPSHOT_EVERY": j.SnapshotEvery, "SNAPSHOT_INLINE_MAX_BYTES": int64(j.InlineSnapshotMaxBytes),
		"AGGREGATE_CACHE_ENTRIES": int64(j.CacheEntries), "AGGREGATE_CACHE_BYTES": int64(j.CacheBytes),
	} {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s must be positive", name))
		}
	}
	if j.CallTimeout <= 0 {
		errs = append(errs, errors.New("DYNAMODB_CALL_TIMEOUT must be positive"))
	}
	return errors.Join(errs...)
}

// ApplyDefaults sets the writer's listen address when HTTP_ADDR is not set.
func (c *Config) ApplyDefaults() { c.HTTP = c.HTTP.WithDefaultAddr(defaultAddr) }

// Validate returns every problem of every block joined, each naming its environment variable.
func (c *Config) Validate() error {
	return errors.Join(c.HTTP.Validate(), c.Log.Validate(), c.AWS.Validate(), c.Auth.Validate(),
		c.RateLimit.Validate(), c.Journal.Validate(), c.Command.Validate(), c.Tracing.Validate(),
		c.Consistency.Validate(c.Auth.HS256Secret))
}
