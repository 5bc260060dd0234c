package config

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Postgres configures the read-model database and where its credentials come from: exactly one of
// URL (local default; with IAMAuth it carries no password and an RDS IAM token is used instead) and
// SecretARN (a Secrets Manager secret in the RDS JSON shape, re-read as the password rotates).
type Postgres struct {
	// URL is a secret because it may carry a password.
	URL Secret `env:"POSTGRES_URL"`
	// IAMAuth makes every new connection's password a fresh RDS IAM auth token for URL's user.
	IAMAuth bool `env:"POSTGRES_IAM_AUTH"`
	// SecretARN names (by ARN or name) the secret holding host, port, username, password and dbname.
	SecretARN string `env:"POSTGRES_SECRET_ARN"`
	// SecretSSLMode is the sslmode of connections built from the secret (the secret has none).
	SecretSSLMode string `env:"POSTGRES_SECRET_SSLMODE" envDefault:"require"`
	// SecretRefresh is the longest a read secret is used before a new connection reads it again.
	SecretRefresh time.Duration `env:"POSTGRES_SECRET_REFRESH" envDefault:"5m"`
	// SecretRetry is how soon after a failed connection attempt the secret may be read again.
	SecretRetry time.Duration `env:"POSTGRES_SECRET_RETRY" envDefault:"5s"`
}

// sslModes are the sslmode values libpq and pgx know.
var sslModes = map[string]bool{
	"disable": true, "allow": true, "prefer": true, "require": true, "verify-ca": true, "verify-full": true,
}

// Validate returns every problem joined: one source of credentials (POSTGRES_URL, alone or with
// POSTGRES_IAM_AUTH and no password, or POSTGRES_SECRET_ARN), a postgres:// URL, and sane secret
// settings; no message ever includes the URL.
func (p Postgres) Validate() error {
	switch {
	case p.URL == "" && p.SecretARN == "":
		return errors.New("POSTGRES_URL is required unless POSTGRES_SECRET_ARN is set")
	case p.URL != "" && p.SecretARN != "":
		return errors.New("POSTGRES_URL and POSTGRES_SECRET_ARN are two sources of credentials: set only one")
	case p.SecretARN != "":
		return p.validateSecret()
	default:
		return p.validateURL()
	}
}

func (p Postgres) validateURL() error {
	u, err := url.Parse(p.URL.Reveal())
	if err != nil {
		// The parse error quotes the URL, password included, so it is dropped.
		return errors.New("POSTGRES_URL is not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return errors.New("POSTGRES_URL must use the postgres or postgresql scheme")
	}
	if !p.IAMAuth {
		return nil
	}
	var errs []error
	if u.User.Username() == "" {
		errs = append(errs, errors.New("POSTGRES_IAM_AUTH needs the database user in POSTGRES_URL"))
	}
	if _, has := u.User.Password(); has {
		errs = append(errs, errors.New("POSTGRES_IAM_AUTH and a password in POSTGRES_URL are two sources of credentials: drop the password"))
	}
	if mode := u.Query().Get("sslmode"); mode == "disable" || mode == "allow" {
		// RDS accepts IAM tokens over TLS only; "allow" would send the token in clear first.
		errs = append(errs, fmt.Errorf("POSTGRES_IAM_AUTH needs TLS: POSTGRES_URL must not have sslmode=%s", mode))
	}
	return errors.Join(errs...)
}

func (p Postgres) validateSecret() error {
	var errs []error
	if p.IAMAuth {
		errs = append(errs, errors.New("POSTGRES_IAM_AUTH and POSTGRES_SECRET_ARN are two sources of credentials: set only one"))
	}
	if !sslModes[p.SecretSSLMode] {
		errs = append(errs, fmt.Errorf("POSTGRES_SECRET_SSLMODE %q is not a known sslmode", p.SecretSSLMode))
	}
	if p.SecretRefresh <= 0 {
		errs = append(errs, errors.New("POSTGRES_SECRET_REFRESH must be positive"))
	}
	if p.SecretRetry < 0 {
		errs = append(errs, errors.New("POSTGRES_SECRET_RETRY must not be negative"))
	}
	return errors.Join(errs...)
}
