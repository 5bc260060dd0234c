package auth_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	const good = "0123456789abcdef"
	tests := []struct {
		name string
		cfg  auth.Config
		want []string // substrings of the error; nil means valid
	}{
		{"secret only", auth.Config{HS256Secret: good}, nil},
		{"jwks only", auth.Config{JWKSURL: "https://cognito-idp.example/pool/.well-known/jwks.json"}, nil},
		{"both, with claims", auth.Config{HS256Secret: good, JWKSURL: "http://127.0.0.1:9/jwks", Issuer: "i",
			Audience: "a", Leeway: time.Minute}, nil},
		{"no key", auth.Config{}, []string{"AUTH_HS256_SECRET or AUTH_JWKS_URL is required"}},
		{"short secret", auth.Config{HS256Secret: "0123456789abcde"}, []string{"AUTH_HS256_SECRET must be at least 16 bytes"}},
		{"jwks scheme", auth.Config{JWKSURL: "ftp://h/jwks"}, []string{"AUTH_JWKS_URL must use the http or https"}},
		{"jwks relative", auth.Config{JWKSURL: "/jwks.json"}, []string{"AUTH_JWKS_URL"}},
		{"jwks unparsable", auth.Config{JWKSURL: "http://h:port/x"}, []string{"AUTH_JWKS_URL is not a valid URL"}},
		{"negative leeway", auth.Config{HS256Secret: good, Leeway: -time.Second}, []string{"AUTH_LEEWAY"}},
		{"every problem", auth.Config{HS256Secret: "short", JWKSURL: "nope", Leeway: -1},
			[]string{"AUTH_HS256_SECRET", "AUTH_JWKS_URL", "AUTH_LEEWAY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: want error, got nil")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if s := tt.cfg.HS256Secret.Reveal(); s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error leaks the secret: %q", err)
			}
		})
	}
}

func TestConfigLoadsFromEnvironment(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom[auth.Config]("", map[string]string{"AUTH_HS256_SECRET": "from-the-environment"})
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.HS256Secret.Reveal() != "from-the-environment" || cfg.Leeway != 30*time.Second {
		t.Errorf("loaded %+v, want the secret and the default 30s leeway", cfg)
	}
	if _, err := config.LoadFrom[auth.Config]("", nil); err == nil {
		t.Error("LoadFrom without a key: want error, got nil")
	}
}

func TestConfigNeverPrintsSecret(t *testing.T) {
	t.Parallel()
	const plain = "hunter2-hunter2-hunter2"
	cfg := auth.Config{HS256Secret: plain, Issuer: "iss"}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		out := fmt.Sprintf(verb, cfg)
		if strings.Contains(out, plain) || !strings.Contains(out, "***") {
			t.Errorf("%s of Config = %s; want the secret shown as ***", verb, out)
		}
	}
}
