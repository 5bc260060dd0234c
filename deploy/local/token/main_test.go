package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/devtoken"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
)

// TestTokenVerifiesWithTheServicesConfig: the tool prints a token the services accept. How the environment
// shapes it (secret, issuer, audience) is devtoken's, tested there.
func TestTokenVerifiesWithTheServicesConfig(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return map[string]string{"AUTH_ISSUER": "local"}[k] }
	if code := run([]string{"-sub", "alice", "-ttl", "5m"}, getenv, time.Now, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{HS256Secret: devtoken.DefaultSecret, Issuer: "local"})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(strings.TrimSpace(out.String()))
	if err != nil || claims.Subject != "alice" {
		t.Errorf("Verify = %+v, %v; want alice", claims, err)
	}
}

func TestTokenExpiresAfterTTL(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	past := func() time.Time { return time.Now().Add(-2 * time.Hour) }
	if code := run([]string{"-sub", "alice", "-ttl", "1h"}, func(string) string { return "" }, past, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{HS256Secret: devtoken.DefaultSecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(strings.TrimSpace(out.String())); err == nil {
		t.Error("a token minted 2h ago with a 1h ttl was accepted")
	}
}

func TestTokenUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no sub", nil, "-sub is required"},
		{"bad ttl", []string{"-sub", "alice", "-ttl", "-1m"}, "-ttl must be positive"},
		{"unknown flag", []string{"-user", "alice"}, "flag provided but not defined"},
		{"extra arguments", []string{"-sub", "alice", "bob"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run(tt.args, func(string) string { return "" }, time.Now, &out, &errOut)
			if code != 2 || out.Len() != 0 {
				t.Errorf("exit %d with output %q; want 2 and nothing on stdout", code, out.String())
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q does not say %q", errOut.String(), tt.want)
			}
		})
	}
}
