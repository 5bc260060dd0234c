package main

import (
	"errors"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// defaultAddr is where the query API listens when HTTP_ADDR is not set: loopback only, so a developer's machine
// does not expose it; containers set HTTP_ADDR=0.0.0.0:8081.
const defaultAddr = "127.0.0.1:8081"

// Config is the query API's configuration, read from unprefixed environment variables so that one .local/env
// configures every service. AWS serves only to sign search requests when SEARCH_SIGV4 is set.
type Config struct {
	HTTP     config.HTTP
	Log      config.Log
	AWS      config.AWS
	Postgres config.Postgres
	Search   config.Search
}

// ApplyDefaults sets the query API's listen address when HTTP_ADDR is not set.
func (c *Config) ApplyDefaults() { c.HTTP = c.HTTP.WithDefaultAddr(defaultAddr) }

// Validate returns every problem of every block joined, each naming its environment variable.
func (c *Config) Validate() error {
	return errors.Join(c.HTTP.Validate(), c.Log.Validate(), c.AWS.Validate(), c.Postgres.Validate(),
		c.Search.Validate())
}
