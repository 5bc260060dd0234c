// Package ratelimit limits requests per key (the authenticated account) with a token bucket per key, keeping at
// most a bounded number of keys in memory.
package ratelimit

import "errors"

// Config sets the per-key token bucket and how many keys are remembered; it is read from the environment.
type Config struct {
	// RPS is the sustained rate each key may make requests at, per second.
	RPS float64 `env:"RATE_LIMIT_RPS" envDefault:"50"`
	// Burst is how many requests a key may make at once after being idle.
	Burst int `env:"RATE_LIMIT_BURST" envDefault:"100"`
	// MaxKeys bounds the buckets kept; the least recently used key's bucket is dropped (and starts full again).
	MaxKeys int `env:"RATE_LIMIT_MAX_KEYS" envDefault:"100000"`
}

// Validate returns every problem joined, each naming its environment variable: all three must be positive.
func (c Config) Validate() error {
	var errs []error
	// Written as !(x > 0) so that NaN is rejected too.
	if !(c.RPS > 0) {
		errs = append(errs, errors.New("RATE_LIMIT_RPS must be positive"))
	}
	if c.Burst < 1 {
		errs = append(errs, errors.New("RATE_LIMIT_BURST must be positive"))
	}
	if c.MaxKeys < 1 {
		errs = append(errs, errors.New("RATE_LIMIT_MAX_KEYS must be positive"))
	}
	return errors.Join(errs...)
}
