package main

import (
	"errors"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// defaultAddr is where the projectors serve their operational endpoints when HTTP_ADDR is not set: loopback
// only; containers set HTTP_ADDR=0.0.0.0:8083.
const defaultAddr = "127.0.0.1:8083"

// Config is the projectors' configuration, read from unprefixed environment variables so that one .local/env
// configures every service. AWS signs search requests when SEARCH_SIGV4 is set.
type Config struct {
	HTTP     config.HTTP
	Log      config.Log
	AWS      config.AWS
	Kafka    config.Kafka
	Postgres config.Postgres
	Search   config.Search
}

// ApplyDefaults sets the projectors' listen address when HTTP_ADDR is not set.
func (c *Config) ApplyDefaults() { c.HTTP = c.HTTP.WithDefaultAddr(defaultAddr) }

// Validate returns every problem of every block joined, each naming its environment variable.
func (c *Config) Validate() error {
	return errors.Join(c.HTTP.Validate(), c.Log.Validate(), c.AWS.Validate(), c.Kafka.Validate(),
		c.Postgres.Validate(), c.Search.Validate())
}
