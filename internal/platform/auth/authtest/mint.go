// Package authtest makes tokens and JWKS endpoints for tests of code behind auth.Middleware.
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MintHS256 returns an HS256 token for sub signed with secret, issued now and expiring after ttl (a negative
// ttl makes an expired token). It fails the test when signing fails.
func MintHS256(tb testing.TB, secret, sub string, ttl time.Duration) string {
	tb.Helper()
	return Sign(tb, jwt.SigningMethodHS256, []byte(secret), "", Standard(sub, ttl))
}

// MintRS256 returns an RS256 token for sub signed with key, naming kid in its header, issued now and expiring
// after ttl. It fails the test when signing fails.
func MintRS256(tb testing.TB, key *rsa.PrivateKey, kid, sub string, ttl time.Duration) string {
	tb.Helper()
	return Sign(tb, jwt.SigningMethodRS256, key, kid, Standard(sub, ttl))
}

// Standard returns the claims the Mint functions sign: sub, iat now and exp now+ttl.
func Standard(sub string, ttl time.Duration) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
}

// Sign returns claims signed with method and key, naming kid in the header when it is not empty; it is for
// tokens the Mint functions do not make (other claims, other algorithms, "none"). It fails the test when
// signing fails.
func Sign(tb testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	tb.Helper()
	t := jwt.NewWithClaims(method, claims)
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("sign %s token: %v", method.Alg(), err)
	}
	return s
}

// NewRSAKey returns a fresh 2048-bit RSA key; it fails the test when generation fails.
func NewRSAKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("generate rsa key: %v", err)
	}
	return key
}
