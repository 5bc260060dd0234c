package devtoken_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/devtoken"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
)

func verifier(t *testing.T, cfg auth.Config) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMintVerifiesWithTheServicesConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		cfg  auth.Config
	}{
		{"dev secret when unset", nil, auth.Config{HS256Secret: devtoken.DefaultSecret}},
		{"secret from the environment", map[string]string{"AUTH_HS256_SECRET": "a-much-longer-local-secret"},
			auth.Config{HS256Secret: "a-much-longer-local-secret"}},
		{"issuer and audience", map[string]string{"AUTH_ISSUER": "local", "AUTH_AUDIENCE": "chat"},
			auth.Config{HS256Secret: devtoken.DefaultSecret, Issuer: "local", Audience: "chat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := devtoken.FromEnv(func(k string) string { return tt.env[k] })
			token, err := s.Mint("yuki", 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			claims, err := verifier(t, tt.cfg).Verify(token)
			if err != nil || claims.Subject != "yuki" {
				t.Errorf("Verify = %+v, %v; want yuki", claims, err)
			}
		})
	}
}

func TestMintRejectedWithAnotherSecretOrAfterExpiry(t *testing.T) {
	t.Parallel()
	v := verifier(t, auth.Config{HS256Secret: devtoken.DefaultSecret})
	other, err := devtoken.Mint("another-secret-entirely", "demo", time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(other); err == nil {
		t.Error("a token signed with another secret was accepted")
	}
	old, err := devtoken.MintAt(time.Now().Add(-2*time.Hour), devtoken.DefaultSecret, "demo", time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(old); err == nil {
		t.Error("a token minted 2h ago with a 1h ttl was accepted")
	}
}

func TestMintRefusesBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret, sub string
		ttl               time.Duration
		want              string
	}{
		{"no secret", "", "demo", time.Hour, "secret is empty"},
		{"no sub", "s", "", time.Hour, "sub is empty"},
		{"zero ttl", "s", "demo", 0, "ttl must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token, err := devtoken.Mint(tt.secret, tt.sub, tt.ttl, "", "")
			if err == nil || token != "" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Mint = %q, %v; want an error saying %q", token, err, tt.want)
			}
		})
	}
}
