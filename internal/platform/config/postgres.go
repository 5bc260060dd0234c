package config

import (
	"errors"
	"net/url"
)

// Postgres configures the read-model database; URL is a secret because it may carry a password.
type Postgres struct {
	URL Secret `env:"POSTGRES_URL"`
}

// Validate returns an error naming POSTGRES_URL when it is missing or not a postgres:// or
// postgresql:// URL; the message never includes the URL.
func (p Postgres) Validate() error {
	if p.URL == "" {
		return errors.New("POSTGRES_URL is required")
	}
	u, err := url.Parse(p.URL.Reveal())
	if err != nil {
		// The parse error quotes the URL, password included, so it is dropped.
		return errors.New("POSTGRES_URL is not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return errors.New("POSTGRES_URL must use the postgres or postgresql scheme")
	}
	return nil
}
