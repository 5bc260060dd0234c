package search

import (
	"errors"
	"fmt"
	"strings"
)

// Config configures a Projection; New fills the defaults of zero fields.
type Config struct {
	// Name is the stable alias, default "search"; the indices are "<Name>_v<N>".
	Name string
	// Version is the lowest version this code builds, default 2: version 2 keeps one state document per
	// aggregate (version 1 kept 64 buckets of them) and a "seq" in every message document.
	Version int
	// BulkSize is the largest number of actions in one bulk request, default 1000.
	BulkSize int
	// BulkParallel is the largest number of bulk requests one batch has in flight at once, default 4.
	BulkParallel int
	// MaxRequestBytes is the largest body of a bulk, mget or search request, default (and at most)
	// DefaultMaxRequestBytes; only an action longer than it alone (a message document is far shorter) exceeds it.
	MaxRequestBytes int
	// Replicas is the number_of_replicas Switch gives an index as it goes live (it is built with none);
	// default 0, for a single-node server.
	Replicas int
}

// DefaultMaxRequestBytes is the default and largest MaxRequestBytes, 5 MiB: half the request cap of the
// smallest Amazon OpenSearch Service instances, a twentieth of the search servers' http.max_content_length.
const DefaultMaxRequestBytes = 5 << 20

// minRequestBytes is the smallest MaxRequestBytes, which tests use to exercise the chunking.
const minRequestBytes = 1 << 10

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "search"
	}
	if c.Version == 0 {
		c.Version = 2
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.BulkSize == 0 {
		c.BulkSize = 1000
	}
	if c.BulkParallel == 0 {
		c.BulkParallel = 4
	}
	return c
}

// Validate returns every problem of c joined.
func (c Config) Validate() error {
	var errs []error
	if c.Name != strings.ToLower(c.Name) || strings.ContainsAny(c.Name, `*?"<>|,# /\`) || strings.HasPrefix(c.Name, "_") {
		errs = append(errs, fmt.Errorf("name %q is not a valid index name (lower-case, no *?\"<>|,# /\\, not starting with _)", c.Name))
	}
	if c.Version < 1 {
		errs = append(errs, fmt.Errorf("version %d must be at least 1", c.Version))
	}
	if c.BulkSize < 1 {
		errs = append(errs, fmt.Errorf("bulk size %d must be at least 1", c.BulkSize))
	}
	if c.BulkParallel < 1 {
		errs = append(errs, fmt.Errorf("bulk parallel %d must be at least 1", c.BulkParallel))
	}
	if c.MaxRequestBytes < minRequestBytes || c.MaxRequestBytes > DefaultMaxRequestBytes {
		errs = append(errs, fmt.Errorf("max request bytes %d must be between %d and %d", c.MaxRequestBytes, minRequestBytes, DefaultMaxRequestBytes))
	}
	if c.Replicas < 0 {
		errs = append(errs, fmt.Errorf("replicas %d must not be negative", c.Replicas))
	}
	return errors.Join(errs...)
}
