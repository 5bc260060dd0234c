// Package auth authenticates HTTP callers by a bearer JWT: HS256 with a shared secret and/or RS256 and ES256
// with keys from a JWKS URL (Amazon Cognito). The token's sub claim is the caller's account id.
package auth

import (
	"errors"
	"net/url"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// minSecretBytes is the shortest HS256 secret accepted: shorter ones are guessable offline from one token.
const minSecretBytes = 16

// Config says which keys verify tokens and which claims they must carry; it is read from the environment.
// At least one of HS256Secret and JWKSURL is required; only the algorithms of the keys configured are accepted.
type Config struct {
	// HS256Secret verifies HS256 tokens; it prints as *** everywhere.
	HS256Secret config.Secret `env:"AUTH_HS256_SECRET"`
	// JWKSURL is where the public keys for RS256 and ES256 tokens are fetched from (and refreshed).
	JWKSURL string `env:"AUTH_JWKS_URL"`
	// Issuer, when set, must equal the token's iss claim.
	Issuer string `env:"AUTH_ISSUER"`
	// Audience, when set, must be in the token's aud claim or, for tokens without aud (Cognito access tokens),
	// equal its client_id claim.
	Audience string `env:"AUTH_AUDIENCE"`
	// Leeway is the clock skew tolerated on exp and nbf; zero tolerates none.
	Leeway time.Duration `env:"AUTH_LEEWAY" envDefault:"30s"`
}

// Validate returns every problem joined, each naming its environment variable: a key is required (secret or
// JWKS URL), the secret is at least 16 bytes, the JWKS URL is an absolute http(s) URL, the leeway is not negative.
// No message includes a configured value.
func (c Config) Validate() error {
	var errs []error
	if c.HS256Secret == "" && c.JWKSURL == "" {
		errs = append(errs, errors.New("AUTH_HS256_SECRET or AUTH_JWKS_URL is required"))
	}
	if c.HS256Secret != "" && len(c.HS256Secret.Reveal()) < minSecretBytes {
		errs = append(errs, errors.New("AUTH_HS256_SECRET must be at least 16 bytes"))
	}
	if c.JWKSURL != "" {
		errs = append(errs, checkJWKSURL(c.JWKSURL))
	}
	if c.Leeway < 0 {
		errs = append(errs, errors.New("AUTH_LEEWAY must not be negative"))
	}
	return errors.Join(errs...)
}

func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("AUTH_JWKS_URL is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("AUTH_JWKS_URL must use the http or https scheme")
	case u.Host == "":
		return errors.New("AUTH_JWKS_URL must be an absolute URL with a host")
	}
	return nil
}
