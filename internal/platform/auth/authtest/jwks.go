package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// JWKS serves a JWK Set over HTTP for tests; keys may be added while it runs, to test key rotation.
type JWKS struct {
	srv      *httptest.Server
	mu       sync.Mutex
	keys     []jwk
	requests int
}

// jwk is one public key in JWK form (RFC 7517, RFC 7518 section 6).
type jwk struct {
	KTY string `json:"kty"`
	KID string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// NewJWKS starts an empty JWK Set server that is closed when the test ends.
func NewJWKS(tb testing.TB) *JWKS {
	tb.Helper()
	j := &JWKS{keys: []jwk{}}
	j.srv = httptest.NewServer(http.HandlerFunc(j.serve))
	tb.Cleanup(j.srv.Close)
	return j
}

// JWKSServer starts a JWK Set server holding key under kid and returns its URL; it is closed when the test ends.
func JWKSServer(tb testing.TB, kid string, key *rsa.PublicKey) string {
	tb.Helper()
	j := NewJWKS(tb)
	j.Add(tb, kid, key)
	return j.URL()
}

// URL returns the address of the JWK Set document.
func (j *JWKS) URL() string { return j.srv.URL + "/.well-known/jwks.json" }

// Requests returns how many times the set has been fetched.
func (j *JWKS) Requests() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.requests
}

// Add publishes key under kid: an *rsa.PublicKey (alg RS256) or a P-256 *ecdsa.PublicKey (alg ES256). It fails
// the test for any other key.
func (j *JWKS) Add(tb testing.TB, kid string, key crypto.PublicKey) {
	tb.Helper()
	k := jwk{KID: kid, Use: "sig"}
	b64 := base64.RawURLEncoding.EncodeToString
	switch key := key.(type) {
	case *rsa.PublicKey:
		k.KTY, k.Alg = "RSA", "RS256"
		k.N, k.E = b64(key.N.Bytes()), b64(big.NewInt(int64(key.E)).Bytes())
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			tb.Fatalf("jwks: key %q is not on P-256", kid)
		}
		point, err := key.ECDH()
		if err != nil {
			tb.Fatalf("jwks: key %q: %v", kid, err)
		}
		// The uncompressed point is 0x04 || X || Y, each coordinate 32 bytes.
		raw := point.Bytes()
		k.KTY, k.Alg, k.Crv = "EC", "ES256", "P-256"
		k.X, k.Y = b64(raw[1:33]), b64(raw[33:])
	default:
		tb.Fatalf("jwks: unsupported key type %T", key)
	}
	j.mu.Lock()
	j.keys = append(j.keys, k)
	j.mu.Unlock()
}

func (j *JWKS) serve(w http.ResponseWriter, _ *http.Request) {
	j.mu.Lock()
	j.requests++
	body, err := json.Marshal(map[string][]jwk{"keys": j.keys})
	j.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
