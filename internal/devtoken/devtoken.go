// Package devtoken mints the HS256 tokens of the local stack for development tools (deploy/local/token,
// deploy/local/demo): the one place that knows which claims the services check.
package devtoken

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultSecret is the HS256 secret `make run` gives the services when AUTH_HS256_SECRET is unset.
const DefaultSecret = "local-dev-secret"

// Settings are what a token must match to be accepted by the services: their secret, and the issuer and
// audience when they require them (empty: not required).
type Settings struct {
	Secret   string
	Issuer   string
	Audience string
}

// FromEnv reads the settings the services get, through getenv: AUTH_HS256_SECRET (DefaultSecret when unset),
// AUTH_ISSUER and AUTH_AUDIENCE.
func FromEnv(getenv func(string) string) Settings {
	s := Settings{Secret: getenv("AUTH_HS256_SECRET"), Issuer: getenv("AUTH_ISSUER"), Audience: getenv("AUTH_AUDIENCE")}
	if s.Secret == "" {
		s.Secret = DefaultSecret
	}
	return s
}

// Mint returns an HS256 JWT for account sub signed with secret, issued now and expiring after ttl, with iss and
// aud when issuer and audience are not empty. It returns an error for an empty secret or sub, a ttl that is not
// positive, or when signing fails.
func Mint(secret, sub string, ttl time.Duration, issuer, audience string) (string, error) {
	return MintAt(time.Now(), secret, sub, ttl, issuer, audience)
}

// MintAt is Mint with the issue time given, for tests of expiry.
func MintAt(now time.Time, secret, sub string, ttl time.Duration, issuer, audience string) (string, error) {
	var errs []error
	if secret == "" {
		errs = append(errs, errors.New("secret is empty"))
	}
	if sub == "" {
		errs = append(errs, errors.New("sub is empty"))
	}
	if ttl <= 0 {
		errs = append(errs, errors.New("ttl must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	claims := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	if issuer != "" {
		claims["iss"] = issuer
	}
	if audience != "" {
		claims["aud"] = audience
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("mint token: sign: %w", err)
	}
	return token, nil
}

// Mint returns a token for sub valid for ttl that the services configured with s accept; see the function Mint.
func (s Settings) Mint(sub string, ttl time.Duration) (string, error) {
	return Mint(s.Secret, sub, ttl, s.Issuer, s.Audience)
}
