package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
)

const secret = "verifier-test-secret-0123"

// keys are generated once: RSA generation is slow under the race detector.
var keys = sync.OnceValues(func() (testKeys, error) {
	var k testKeys
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	if k.otherRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k, err
})

type testKeys struct {
	rsa, otherRSA *rsa.PrivateKey
	ec            *ecdsa.PrivateKey
}

func mustKeys(tb testing.TB) testKeys {
	tb.Helper()
	k, err := keys()
	if err != nil {
		tb.Fatalf("generate keys: %v", err)
	}
	return k
}

func newVerifier(tb testing.TB, cfg auth.Config) *auth.Verifier {
	tb.Helper()
	// The test's context ends the key set refresh when the test ends.
	v, err := auth.NewVerifier(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// claims returns sub with exp at now+exp, plus extra name/value pairs; a nil value deletes the claim.
func claims(sub string, exp time.Duration, extra ...any) jwt.MapClaims {
	c := authtest.Standard(sub, exp)
	for i := 0; i+1 < len(extra); i += 2 {
		name := extra[i].(string)
		if extra[i+1] == nil {
			delete(c, name)
			continue
		}
		c[name] = extra[i+1]
	}
	return c
}

// publicKeyPEM is what an algorithm-confusion attacker signs HS256 tokens with: the server's public key.
func publicKeyPEM(tb testing.TB, key *rsa.PublicKey) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

type verifyCase struct {
	name    string
	token   string
	wantSub string // "" means the token must be rejected
}

func checkVerify(t *testing.T, v *auth.Verifier, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Verify(tc.token)
			if tc.wantSub == "" {
				if err == nil {
					t.Fatalf("Verify accepted the token as %q; want it rejected", got.Subject)
				}
				if !errors.Is(err, auth.ErrUnauthenticated) {
					t.Errorf("error %v does not wrap ErrUnauthenticated", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Subject != tc.wantSub {
				t.Errorf("Subject = %q, want %q", got.Subject, tc.wantSub)
			}
		})
	}
}

func TestVerifyHS256(t *testing.T) {
	t.Parallel()
	k := mustKeys(t)
	v := newVerifier(t, auth.Config{HS256Secret: secret})
	hs := func(c jwt.MapClaims) string { return authtest.Sign(t, jwt.SigningMethodHS256, []byte(secret), "", c) }
	none := authtest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims("alice", time.Hour))
	checkVerify(t, v, []verifyCase{
		{"valid", authtest.MintHS256(t, secret, "alice", time.Hour), "alice"},
		{"printable unicode subject", hs(claims("アリス", time.Hour)), "アリス"},
		{"subject of 128 characters", hs(claims(strings.Repeat("s", 128), time.Hour)), strings.Repeat("s", 128)},
		{"expired", authtest.MintHS256(t, secret, "alice", -time.Minute), ""},
		{"missing exp", hs(claims("alice", time.Hour, "exp", nil)), ""},
		{"missing sub", hs(claims("alice", time.Hour, "sub", nil)), ""},
		{"empty sub", hs(claims("", time.Hour)), ""},
		{"sub of 129 characters", hs(claims(strings.Repeat("s", 129), time.Hour)), ""},
		{"sub with a control character", hs(claims("al\u0007ice", time.Hour)), ""},
		{"sub with a space", hs(claims("al ice", time.Hour)), ""},
		{"sub not a string", hs(claims("alice", time.Hour, "sub", 42)), ""},
		{"not yet valid", hs(claims("alice", time.Hour, "nbf", time.Now().Add(time.Hour).Unix())), ""},
		{"wrong secret", authtest.MintHS256(t, "another-secret-0123456789", "alice", time.Hour), ""},
		{"alg none", none, ""},
		{"RS256 when only HS256 is configured", authtest.MintRS256(t, k.rsa, "k1", "alice", time.Hour), ""},
		{"tampered payload", tamper(t, authtest.MintHS256(t, secret, "alice", time.Hour), "mallory"), ""},
		{"malformed", "x.y.z", ""},
		{"empty", "", ""},
		{"oversized", hs(claims("alice", time.Hour, "pad", strings.Repeat("p", 10000))), ""},
	})
}

// tamper replaces the payload of token with one naming sub, keeping the header and signature.
func tamper(tb testing.TB, token, sub string) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	forged := strings.Split(authtest.Sign(tb, jwt.SigningMethodHS256, []byte("x"), "", claims(sub, time.Hour)), ".")
	return parts[0] + "." + forged[1] + "." + parts[2]
}

func TestVerifyLeeway(t *testing.T) {
	t.Parallel()
	lenient := newVerifier(t, auth.Config{HS256Secret: secret, Leeway: 30 * time.Second})
	strict := newVerifier(t, auth.Config{HS256Secret: secret})
	expired10s := authtest.MintHS256(t, secret, "alice", -10*time.Second)
	expired60s := authtest.MintHS256(t, secret, "alice", -time.Minute)
	notBefore := authtest.Sign(t, jwt.SigningMethodHS256, []byte(secret), "",
		claims("alice", time.Hour, "nbf", time.Now().Add(10*time.Second).Unix()))
	t.Run("30s leeway", func(t *testing.T) {
		t.Parallel()
		checkVerify(t, lenient, []verifyCase{
			{"expired 10s ago", expired10s, "alice"},
			{"valid in 10s", notBefore, "alice"},
			{"expired 60s ago", expired60s, ""},
		})
	})
	t.Run("no leeway", func(t *testing.T) {
		t.Parallel()
		checkVerify(t, strict, []verifyCase{
			{"expired 10s ago", expired10s, ""},
			{"valid in 10s", notBefore, ""},
		})
	})
}

func TestVerifyIssuerAndAudience(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, auth.Config{HS256Secret: secret, Issuer: "https://issuer.test", Audience: "chat-api"})
	hs := func(extra ...any) string {
		return authtest.Sign(t, jwt.SigningMethodHS256, []byte(secret), "", claims("alice", time.Hour, extra...))
	}
	checkVerify(t, v, []verifyCase{
		{"right issuer and audience", hs("iss", "https://issuer.test", "aud", "chat-api"), "alice"},
		{"audience among several", hs("iss", "https://issuer.test", "aud", []string{"other", "chat-api"}), "alice"},
		{"access token with client_id", hs("iss", "https://issuer.test", "client_id", "chat-api"), "alice"},
		{"wrong issuer", hs("iss", "https://evil.test", "aud", "chat-api"), ""},
		{"missing issuer", hs("aud", "chat-api"), ""},
		{"wrong audience", hs("iss", "https://issuer.test", "aud", "other"), ""},
		{"missing audience", hs("iss", "https://issuer.test"), ""},
		{"wrong client_id", hs("iss", "https://issuer.test", "client_id", "other"), ""},
		{"aud decides over client_id", hs("iss", "https://issuer.test", "aud", "other", "client_id", "chat-api"), ""},
	})
}

func TestVerifyJWKS(t *testing.T) {
	t.Parallel()
	k := mustKeys(t)
	jwks := authtest.NewJWKS(t)
	jwks.Add(t, "k1", &k.rsa.PublicKey)
	jwks.Add(t, "e1", &k.ec.PublicKey)
	v := newVerifier(t, auth.Config{JWKSURL: jwks.URL()})
	confused := authtest.Sign(t, jwt.SigningMethodHS256, publicKeyPEM(t, &k.rsa.PublicKey), "k1", claims("alice", time.Hour))
	checkVerify(t, v, []verifyCase{
		{"RS256", authtest.MintRS256(t, k.rsa, "k1", "alice", time.Hour), "alice"},
		{"ES256", authtest.Sign(t, jwt.SigningMethodES256, k.ec, "e1", claims("bob", time.Hour)), "bob"},
		{"unknown kid", authtest.MintRS256(t, k.rsa, "k9", "alice", time.Hour), ""},
		{"no kid", authtest.MintRS256(t, k.rsa, "", "alice", time.Hour), ""},
		{"signed by another key", authtest.MintRS256(t, k.otherRSA, "k1", "alice", time.Hour), ""},
		{"ES256 naming an RSA key", authtest.Sign(t, jwt.SigningMethodES256, k.ec, "k1", claims("bob", time.Hour)), ""},
		{"RS384 is not accepted", authtest.Sign(t, jwt.SigningMethodRS384, k.rsa, "k1", claims("alice", time.Hour)), ""},
		{"expired", authtest.MintRS256(t, k.rsa, "k1", "alice", -time.Minute), ""},
		{"HS256 signed with the public key", confused, ""},
		{"HS256 when only JWKS is configured", authtest.MintHS256(t, secret, "alice", time.Hour), ""},
	})
}

func TestVerifyBothKeyKinds(t *testing.T) {
	t.Parallel()
	k := mustKeys(t)
	v := newVerifier(t, auth.Config{HS256Secret: secret, JWKSURL: authtest.JWKSServer(t, "k1", &k.rsa.PublicKey)})
	confused := authtest.Sign(t, jwt.SigningMethodHS256, publicKeyPEM(t, &k.rsa.PublicKey), "k1", claims("alice", time.Hour))
	checkVerify(t, v, []verifyCase{
		{"HS256", authtest.MintHS256(t, secret, "alice", time.Hour), "alice"},
		{"RS256", authtest.MintRS256(t, k.rsa, "k1", "bob", time.Hour), "bob"},
		{"HS256 signed with the public key", confused, ""},
	})
}

func TestVerifierPicksUpRotatedKeys(t *testing.T) {
	t.Parallel()
	k := mustKeys(t)
	jwks := authtest.NewJWKS(t)
	jwks.Add(t, "k1", &k.rsa.PublicKey)
	v := newVerifier(t, auth.Config{JWKSURL: jwks.URL()})
	if n := jwks.Requests(); n != 1 {
		t.Fatalf("NewVerifier fetched the key set %d times, want once", n)
	}

	jwks.Add(t, "k2", &k.otherRSA.PublicKey)
	got, err := v.Verify(authtest.MintRS256(t, k.otherRSA, "k2", "carol", time.Hour))
	if err != nil || got.Subject != "carol" {
		t.Fatalf("token of the rotated-in key: %+v, %v; want carol", got, err)
	}
	fetched := jwks.Requests()
	if fetched != 2 {
		t.Errorf("key set fetched %d times, want 2 (once more for the unknown kid)", fetched)
	}

	// Further unknown kids within the refresh limit are rejected at once, without another fetch.
	start := time.Now()
	if _, err := v.Verify(authtest.MintRS256(t, k.rsa, "k3", "carol", time.Hour)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("unknown kid: err = %v, want ErrUnauthenticated", err)
	}
	if n := jwks.Requests(); n != fetched {
		t.Errorf("unknown kid fetched the key set again (%d fetches, want %d)", n, fetched)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("unknown kid took %v to reject; it must not wait for the refresh limit", d)
	}
}

func TestNewVerifierErrors(t *testing.T) {
	t.Parallel()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>"))
	}))
	t.Cleanup(notJSON.Close)

	tests := []struct {
		name string
		cfg  auth.Config
		want string
	}{
		{"invalid config", auth.Config{HS256Secret: "short"}, "AUTH_HS256_SECRET"},
		{"key set answers 500", auth.Config{JWKSURL: failing.URL}, "jwks"},
		{"key set unreachable", auth.Config{JWKSURL: closed.URL}, "jwks"},
		{"key set not JSON", auth.Config{JWKSURL: notJSON.URL}, "jwks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := auth.NewVerifier(context.Background(), tt.cfg)
			if err == nil || v != nil {
				t.Fatalf("NewVerifier = %v, %v; want an error", v, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestNilVerifierRejects(t *testing.T) {
	t.Parallel()
	var v *auth.Verifier
	if _, err := v.Verify(authtest.MintHS256(t, secret, "alice", time.Hour)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("nil verifier: err = %v, want ErrUnauthenticated", err)
	}
}
