package consistency

import (
	"errors"
	"fmt"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// Config is the token key's setting, read by the writer (which signs) and the query API (which verifies); both
// and every instance of them need the same value.
type Config struct {
	// Secret is the HMAC key of the tokens, at least MinSecretLen bytes. Empty: the key is derived from the JWT
	// HS256 secret, so that a deployment with one shared secret needs no second one; JWKS deployments, which have
	// no shared secret, must set it.
	Secret config.Secret `env:"CONSISTENCY_TOKEN_SECRET"`
}

// Validate returns the problem of the setting given the JWT HS256 secret authSecret, naming the variables: a
// secret too short, or neither it nor authSecret set. No message includes a configured value.
func (c Config) Validate(authSecret config.Secret) error {
	switch {
	case c.Secret != "" && len(c.Secret.Reveal()) < MinSecretLen:
		return fmt.Errorf("CONSISTENCY_TOKEN_SECRET must be at least %d bytes", MinSecretLen)
	case c.Secret == "" && authSecret == "":
		return errors.New("CONSISTENCY_TOKEN_SECRET is required when AUTH_HS256_SECRET is not set (JWKS mode)")
	}
	return nil
}

// Key returns the token key: the secret's, or the one derived from authSecret when the secret is empty. It fails
// as Validate does.
func (c Config) Key(authSecret config.Secret) (*Key, error) {
	if err := c.Validate(authSecret); err != nil {
		return nil, err
	}
	if c.Secret != "" {
		return NewKey([]byte(c.Secret.Reveal()))
	}
	return DeriveKey([]byte(authSecret.Reveal()))
}
