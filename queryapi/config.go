package main

import (
	"errors"
	"time"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/queryapi/cursor"
)

// defaultAddr is where the query API listens when HTTP_ADDR is not set: loopback only, so a developer's machine
// does not expose it; containers set HTTP_ADDR=0.0.0.0:8081.
const defaultAddr = "127.0.0.1:8081"

// Config is the query API's configuration, read from unprefixed environment variables so that one .local/env
// configures every service. AWS serves only to sign search requests when SEARCH_SIGV4 is set.
type Config struct {
	HTTP      config.HTTP
	Log       config.Log
	AWS       config.AWS
	Postgres  config.Postgres
	Search    config.Search
	Auth      auth.Config
	RateLimit ratelimit.Config
	Query     QueryConfig
	Tracing   tracing.Config
	// Consistency is the key that verifies consistent_with tokens: the writer's, which signed them.
	Consistency consistency.Config
}

// QueryConfig names the read models (the same variables as the projectors', so one environment configures both)
// and tunes read-your-writes and cursors.
type QueryConfig struct {
	// ViewsName is the Postgres schema of the live views.
	ViewsName string `env:"PROJECTORS_VIEWS_NAME" envDefault:"views"`
	// SearchName is the search alias of the live index.
	SearchName string `env:"PROJECTORS_SEARCH_NAME" envDefault:"search"`
	// ConsistencyTimeout bounds the wait of a query with consistent_with.
	ConsistencyTimeout time.Duration `env:"QUERYAPI_CONSISTENCY_TIMEOUT" envDefault:"2s"`
	// SearchPollInterval is how often the search index's progress is read while a query waits for it (the
	// index has no notifications; Postgres's views notify).
	SearchPollInterval time.Duration `env:"QUERYAPI_SEARCH_POLL_INTERVAL" envDefault:"50ms"`
	// CursorSecret signs the pagination cursors; every instance behind one load balancer needs the same. Empty:
	// a random key per process (cursors then do not survive a restart).
	CursorSecret config.Secret `env:"QUERYAPI_CURSOR_SECRET"`
	// AcceptOpenSearch lets the Elasticsearch client (SEARCH_FLAVOR=elasticsearch) talk to OpenSearch.
	AcceptOpenSearch bool `env:"SEARCH_ACCEPT_OPENSEARCH"`
}

// Validate returns every problem joined, each naming its environment variable.
func (q QueryConfig) Validate() error {
	var errs []error
	if q.ViewsName == "" || q.SearchName == "" {
		errs = append(errs, errors.New("PROJECTORS_VIEWS_NAME and PROJECTORS_SEARCH_NAME must not be empty"))
	}
	if q.ConsistencyTimeout <= 0 || q.ConsistencyTimeout > time.Minute {
		errs = append(errs, errors.New("QUERYAPI_CONSISTENCY_TIMEOUT must be above 0 and at most 1m"))
	}
	if q.SearchPollInterval < time.Millisecond {
		errs = append(errs, errors.New("QUERYAPI_SEARCH_POLL_INTERVAL must be at least 1ms"))
	}
	if q.CursorSecret != "" && len(q.CursorSecret) < cursor.MinKeyLen {
		errs = append(errs, errors.New("QUERYAPI_CURSOR_SECRET must have at least 16 bytes"))
	}
	return errors.Join(errs...)
}

// ApplyDefaults sets the query API's listen address when HTTP_ADDR is not set.
func (c *Config) ApplyDefaults() { c.HTTP = c.HTTP.WithDefaultAddr(defaultAddr) }

// Validate returns every problem of every block joined, each naming its environment variable.
func (c *Config) Validate() error {
	return errors.Join(c.HTTP.Validate(), c.Log.Validate(), c.AWS.Validate(), c.Postgres.Validate(),
		c.Search.Validate(), c.Auth.Validate(), c.RateLimit.Validate(), c.Query.Validate(), c.Tracing.Validate(),
		c.Consistency.Validate(c.Auth.HS256Secret))
}
