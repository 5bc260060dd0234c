package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

func TestKafkaSecurityValidate(t *testing.T) {
	t.Parallel()
	base := config.Kafka{Brokers: []string{"b-1.example:9098"}, TopicPrefix: "chat"}
	with := func(edit func(*config.Kafka)) config.Kafka { k := base; edit(&k); return k }
	tests := []struct {
		name string
		cfg  config.Kafka
		want []string // nil: valid
	}{
		{"no security (local default)", base, nil},
		{"tls alone", with(func(k *config.Kafka) { k.TLS = true }), nil},
		{"msk iam over tls", with(func(k *config.Kafka) { k.SASLMechanism, k.TLS = config.SASLAWSMSKIAM, true }), nil},
		{"msk iam without tls", with(func(k *config.Kafka) { k.SASLMechanism = config.SASLAWSMSKIAM }),
			[]string{"AWS_MSK_IAM needs KAFKA_TLS=true"}},
		{"msk iam with a password", with(func(k *config.Kafka) {
			k.SASLMechanism, k.TLS, k.SASLUsername, k.SASLPassword = config.SASLAWSMSKIAM, true, "u", "hunter2"
		}), []string{"unset KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"}},
		{"plain over tls", with(func(k *config.Kafka) {
			k.SASLMechanism, k.TLS, k.SASLUsername, k.SASLPassword = config.SASLPlain, true, "u", "hunter2"
		}), nil},
		{"plain without tls", with(func(k *config.Kafka) {
			k.SASLMechanism, k.SASLUsername, k.SASLPassword = config.SASLPlain, "u", "hunter2"
		}), []string{"PLAIN needs KAFKA_TLS=true"}},
		{"scram without tls", with(func(k *config.Kafka) {
			k.SASLMechanism, k.SASLUsername, k.SASLPassword = config.SASLScramSHA512, "u", "hunter2"
		}), nil},
		{"scram without password", with(func(k *config.Kafka) {
			k.SASLMechanism, k.SASLUsername = config.SASLScramSHA256, "u"
		}), []string{"SCRAM-SHA-256 needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"}},
		{"credentials without mechanism", with(func(k *config.Kafka) { k.SASLUsername, k.SASLPassword = "u", "hunter2" }),
			[]string{"need KAFKA_SASL_MECHANISM"}},
		{"unknown mechanism", with(func(k *config.Kafka) { k.SASLMechanism = "GSSAPI" }),
			[]string{`KAFKA_SASL_MECHANISM "GSSAPI"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkValidate(t, tt.cfg.Validate(), tt.want)
		})
	}
}

func TestPostgresSourcesValidate(t *testing.T) {
	t.Parallel()
	secret := func(edit func(*config.Postgres)) config.Postgres {
		p := config.Postgres{SecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
			SecretSSLMode: "require", SecretRefresh: 5 * time.Minute, SecretRetry: 5 * time.Second}
		edit(&p)
		return p
	}
	iam := func(url string) config.Postgres { return config.Postgres{URL: config.Secret(url), IAMAuth: true} }
	tests := []struct {
		name string
		cfg  config.Postgres
		want []string // nil: valid
	}{
		{"url with password (local default)", config.Postgres{URL: "postgres://chat:hunter2@127.0.0.1:15432/chat?sslmode=disable"}, nil},
		{"no source", config.Postgres{}, []string{"POSTGRES_URL is required unless POSTGRES_SECRET_ARN is set"}},
		{"url and secret", secret(func(p *config.Postgres) { p.URL = "postgres://chat:hunter2@h/chat" }),
			[]string{"POSTGRES_URL and POSTGRES_SECRET_ARN are two sources"}},
		{"secret alone", secret(func(*config.Postgres) {}), nil},
		{"secret by name", secret(func(p *config.Postgres) { p.SecretARN = "prod/chat/db" }), nil},
		{"secret and iam", secret(func(p *config.Postgres) { p.IAMAuth = true }),
			[]string{"POSTGRES_IAM_AUTH and POSTGRES_SECRET_ARN are two sources"}},
		{"secret bad settings", secret(func(p *config.Postgres) {
			p.SecretSSLMode, p.SecretRefresh, p.SecretRetry = "maybe", 0, -time.Second
		}), []string{`POSTGRES_SECRET_SSLMODE "maybe"`, "POSTGRES_SECRET_REFRESH must be positive",
			"POSTGRES_SECRET_RETRY must not be negative"}},
		{"iam with user, no password", iam("postgres://app_iam@db.example:5432/chat?sslmode=require"), nil},
		{"iam with default sslmode", iam("postgres://app_iam@db.example:5432/chat"), nil},
		{"iam with a password", iam("postgres://app_iam:hunter2@db.example:5432/chat"),
			[]string{"POSTGRES_IAM_AUTH and a password in POSTGRES_URL are two sources"}},
		{"iam without user", iam("postgres://db.example:5432/chat"), []string{"needs the database user"}},
		{"iam without tls", iam("postgres://app_iam@db.example/chat?sslmode=disable"),
			[]string{"POSTGRES_IAM_AUTH needs TLS"}},
		{"iam without url", config.Postgres{IAMAuth: true}, []string{"POSTGRES_URL is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkValidate(t, tt.cfg.Validate(), tt.want)
		})
	}
}

func TestLoadFromAuthSettings(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom[testConfig]("SVC_", minimal())
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if k := cfg.Kafka; k.TLS || k.SASLMechanism != "" {
		t.Errorf("kafka security by default = tls %v, sasl %q; want none", k.TLS, k.SASLMechanism)
	}
	if p := cfg.Postgres; p.IAMAuth || p.SecretARN != "" || p.SecretSSLMode != "require" ||
		p.SecretRefresh != 5*time.Minute || p.SecretRetry != 5*time.Second {
		t.Errorf("postgres defaults = %+v", p)
	}

	env := without("SVC_POSTGRES_URL")
	for k, v := range map[string]string{
		"SVC_KAFKA_TLS": "true", "SVC_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
		"SVC_KAFKA_SASL_USERNAME": "relay", "SVC_KAFKA_SASL_PASSWORD": "hunter2",
		"SVC_POSTGRES_SECRET_ARN": "prod/chat/db", "SVC_POSTGRES_SECRET_SSLMODE": "verify-full",
		"SVC_POSTGRES_SECRET_REFRESH": "10m", "SVC_POSTGRES_SECRET_RETRY": "0s",
	} {
		env[k] = v
	}
	cfg, err = config.LoadFrom[testConfig]("SVC_", env)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	k, p := cfg.Kafka, cfg.Postgres
	if !k.TLS || k.SASLMechanism != config.SASLScramSHA512 || k.SASLUsername != "relay" || k.SASLPassword.Reveal() != "hunter2" {
		t.Errorf("kafka = %+v", k)
	}
	if p.SecretARN != "prod/chat/db" || p.SecretSSLMode != "verify-full" || p.SecretRefresh != 10*time.Minute || p.SecretRetry != 0 {
		t.Errorf("postgres = %+v", p)
	}
}

// checkValidate fails unless err mentions every wanted text, or is nil when none is wanted, and never leaks
// the test password.
func checkValidate(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Validate: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate: want error mentioning %q, got nil", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks a secret: %q", err)
	}
}
