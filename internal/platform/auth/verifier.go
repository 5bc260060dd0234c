package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// ErrUnauthenticated is wrapped by every error Verify returns: the caller is not authenticated and the request
// must be answered 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// maxTokenBytes bounds the work an unauthenticated caller can cause: real tokens are a few KiB at most.
const maxTokenBytes = 8 << 10

var (
	hs256 = jwt.SigningMethodHS256.Alg()
	rs256 = jwt.SigningMethodRS256.Alg()
	es256 = jwt.SigningMethodES256.Alg()
)

// Claims is what a verified token says about its caller.
type Claims struct {
	// Subject is the token's sub claim: the caller's account id.
	Subject string
}

// tokenClaims is the token payload: the registered claims plus Cognito's client_id, which access tokens carry
// instead of aud.
type tokenClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id,omitempty"`
}

// Verifier checks bearer tokens against the configured keys and claims. It is safe for concurrent use.
type Verifier struct {
	parser   *jwt.Parser
	secret   []byte
	jwks     keyfunc.Keyfunc
	audience string
}

// NewVerifier returns a verifier for cfg. With a JWKS URL it fetches the key set once before returning (an
// unreachable or invalid set is an error, so a misconfigured service does not start) and then refreshes it in
// the background until ctx ends, and when a token names an unknown key id. It returns the joined Config
// problems when cfg is invalid.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("auth config: %w", err)
	}
	v := &Verifier{audience: cfg.Audience}
	// Only the algorithms of the configured keys are accepted: an HS256 token must never be checked against a
	// public key (algorithm confusion), and "none" is never accepted.
	var methods []string
	if cfg.HS256Secret != "" {
		v.secret = []byte(cfg.HS256Secret.Reveal())
		methods = append(methods, hs256)
	}
	if cfg.JWKSURL != "" {
		jwks, err := newJWKS(ctx, cfg.JWKSURL)
		if err != nil {
			return nil, err
		}
		v.jwks = jwks
		methods = append(methods, rs256, es256)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(cfg.Leeway)}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks token's signature, algorithm, exp (required), nbf, iss and aud (when configured) and sub
// (required, an account id by CheckAccountID) and returns its claims. Every error wraps ErrUnauthenticated;
// its text is for logs, never for the client.
func (v *Verifier) Verify(token string) (Claims, error) {
	return v.verify(context.Background(), token)
}

// verify is Verify with the context that bounds a key set refresh caused by an unknown key id.
func (v *Verifier) verify(ctx context.Context, token string) (Claims, error) {
	if v == nil {
		return Claims{}, fmt.Errorf("%w: no verifier configured", ErrUnauthenticated)
	}
	if token == "" {
		return Claims{}, fmt.Errorf("%w: no token", ErrUnauthenticated)
	}
	if len(token) > maxTokenBytes {
		return Claims{}, fmt.Errorf("%w: token longer than %d bytes", ErrUnauthenticated, maxTokenBytes)
	}
	var claims tokenClaims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.keyfunc(ctx)); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if err := CheckAccountID(claims.Subject); err != nil {
		return Claims{}, fmt.Errorf("%w: sub: %w", ErrUnauthenticated, err)
	}
	if v.audience != "" && !hasAudience(claims, v.audience) {
		return Claims{}, fmt.Errorf("%w: token is not for audience %q", ErrUnauthenticated, v.audience)
	}
	return Claims{Subject: claims.Subject}, nil
}

// keyfunc picks the key for a token by its algorithm, which the parser has already checked is configured.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		switch {
		case alg == hs256 && v.secret != nil:
			return v.secret, nil
		case (alg == rs256 || alg == es256) && v.jwks != nil:
			return v.publicKey(ctx, t)
		default:
			return nil, fmt.Errorf("algorithm %q is not accepted", alg)
		}
	}
}

// publicKey finds the key named by the token's kid in the key set and checks that it fits the algorithm.
func (v *Verifier) publicKey(ctx context.Context, t *jwt.Token) (any, error) {
	// Without a kid, keyfunc would try every key of the set; Cognito always names the key, so require it.
	if kid, _ := t.Header["kid"].(string); kid == "" {
		return nil, errors.New("token has no kid")
	}
	key, err := v.jwks.KeyfuncCtx(ctx)(t)
	if err != nil {
		return nil, err
	}
	var fits bool
	switch t.Method.Alg() {
	case rs256:
		_, fits = key.(*rsa.PublicKey)
	case es256:
		_, fits = key.(*ecdsa.PublicKey)
	}
	if !fits {
		return nil, fmt.Errorf("key %T does not fit algorithm %s", key, t.Method.Alg())
	}
	return key, nil
}

// hasAudience reports whether the token is meant for audience: in its aud claim or, when it has none (Cognito
// access tokens), in its client_id claim.
func hasAudience(c tokenClaims, audience string) bool {
	if len(c.Audience) > 0 {
		return slices.Contains(c.Audience, audience)
	}
	return c.ClientID == audience
}
