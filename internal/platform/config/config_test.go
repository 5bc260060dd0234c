package config_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// testConfig composes the building blocks the way a service does.
type testConfig struct {
	HTTP     config.HTTP
	Log      config.Log
	AWS      config.AWS
	Kafka    config.Kafka
	Postgres config.Postgres
	Search   config.Search `envPrefix:"READ_"`
}

func (c *testConfig) ApplyDefaults() { c.HTTP = c.HTTP.WithDefaultAddr(":8080") }

func (c *testConfig) Validate() error {
	return errors.Join(c.HTTP.Validate(), c.Log.Validate(), c.AWS.Validate(), c.Kafka.Validate(),
		c.Postgres.Validate(), c.Search.Validate())
}

// minimal is the smallest environment (under prefix "SVC_") that passes validation.
func minimal() map[string]string {
	return map[string]string{
		"SVC_KAFKA_BROKERS":       "localhost:9092",
		"SVC_POSTGRES_URL":        "postgres://app:hunter2@localhost:5432/app",
		"SVC_READ_OPENSEARCH_URL": "http://localhost:9200",
	}
}

func with(kv ...string) map[string]string {
	env := minimal()
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func without(keys ...string) map[string]string {
	env := minimal()
	for _, k := range keys {
		delete(env, k)
	}
	return env
}

func TestLoadFromDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom[testConfig]("SVC_", minimal())
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"http addr", cfg.HTTP.Addr, ":8080"},
		{"shutdown timeout", cfg.HTTP.ShutdownTimeout, 15 * time.Second},
		{"read header timeout", cfg.HTTP.ReadHeaderTimeout, 5 * time.Second},
		{"read timeout", cfg.HTTP.ReadTimeout, 30 * time.Second},
		{"idle timeout", cfg.HTTP.IdleTimeout, 120 * time.Second},
		{"log level", cfg.Log.Level, slog.LevelInfo},
		{"log format", cfg.Log.Format, "json"},
		{"aws region", cfg.AWS.Region, "us-east-1"},
		{"aws endpoint", cfg.AWS.EndpointURL, ""},
		{"kafka brokers", strings.Join(cfg.Kafka.Brokers, ","), "localhost:9092"},
		{"topic prefix", cfg.Kafka.TopicPrefix, "chat"},
		{"postgres url", cfg.Postgres.URL.Reveal(), "postgres://app:hunter2@localhost:5432/app"},
		{"search url", cfg.Search.URL, "http://localhost:9200"},
		{"search flavor", cfg.Search.Flavor, "opensearch"},
		{"search sigv4", cfg.Search.SigV4, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadFromOverrides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		check func(testConfig) bool
	}{
		{"http addr", with("SVC_HTTP_ADDR", "127.0.0.1:9000"),
			func(c testConfig) bool { return c.HTTP.Addr == "127.0.0.1:9000" }},
		{"shutdown timeout", with("SVC_HTTP_SHUTDOWN_TIMEOUT", "30s"),
			func(c testConfig) bool { return c.HTTP.ShutdownTimeout == 30*time.Second }},
		{"read header timeout", with("SVC_HTTP_READ_HEADER_TIMEOUT", "2s"),
			func(c testConfig) bool { return c.HTTP.ReadHeaderTimeout == 2*time.Second }},
		{"read timeout", with("SVC_HTTP_READ_TIMEOUT", "1m"),
			func(c testConfig) bool { return c.HTTP.ReadTimeout == time.Minute }},
		{"idle timeout", with("SVC_HTTP_IDLE_TIMEOUT", "10s"),
			func(c testConfig) bool { return c.HTTP.IdleTimeout == 10*time.Second }},
		{"log level", with("SVC_LOG_LEVEL", "debug"),
			func(c testConfig) bool { return c.Log.Level == slog.LevelDebug }},
		{"log format", with("SVC_LOG_FORMAT", "text"),
			func(c testConfig) bool { return c.Log.Format == "text" }},
		{"aws", with("SVC_AWS_REGION", "eu-west-1", "SVC_AWS_ENDPOINT_URL", "http://localhost:4566",
			"SVC_AWS_ACCESS_KEY_ID", "test", "SVC_AWS_SECRET_ACCESS_KEY", "test-secret"),
			func(c testConfig) bool {
				return c.AWS.Region == "eu-west-1" && c.AWS.EndpointURL == "http://localhost:4566" &&
					c.AWS.AccessKeyID == "test" && c.AWS.SecretAccessKey.Reveal() == "test-secret"
			}},
		{"kafka brokers", with("SVC_KAFKA_BROKERS", "k1:9092,k2:9093", "SVC_KAFKA_CLIENT_ID", "relay"),
			func(c testConfig) bool {
				return strings.Join(c.Kafka.Brokers, "|") == "k1:9092|k2:9093" && c.Kafka.ClientID == "relay"
			}},
		{"search", with("SVC_READ_SEARCH_FLAVOR", "elasticsearch", "SVC_READ_SEARCH_USERNAME", "elastic",
			"SVC_READ_SEARCH_PASSWORD", "changeme", "SVC_READ_SEARCH_SIGV4", "true"),
			func(c testConfig) bool {
				return c.Search.Flavor == "elasticsearch" && c.Search.Username == "elastic" &&
					c.Search.Password.Reveal() == "changeme" && c.Search.SigV4
			}},
		{"empty value keeps default", with("SVC_KAFKA_TOPIC_PREFIX", ""),
			func(c testConfig) bool { return c.Kafka.TopicPrefix == "chat" }},
		{"unprefixed ignored", with("HTTP_ADDR", ":1"),
			func(c testConfig) bool { return c.HTTP.Addr == ":8080" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.LoadFrom[testConfig]("SVC_", tt.env)
			if err != nil {
				t.Fatalf("LoadFrom: %v", err)
			}
			if !tt.check(cfg) {
				t.Errorf("override not applied: %+v", cfg)
			}
		})
	}
}

func TestLoadFromErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", map[string]string{}, []string{"KAFKA_BROKERS is required",
			"POSTGRES_URL is required", "OPENSEARCH_URL is required"}},
		{"bad duration and format", with("SVC_HTTP_SHUTDOWN_TIMEOUT", "soon", "SVC_LOG_FORMAT", "xml"),
			[]string{"ShutdownTimeout", "HTTP_SHUTDOWN_TIMEOUT must be positive", "LOG_FORMAT"}},
		{"bad level", with("SVC_LOG_LEVEL", "loud"), []string{"Level"}},
		{"bad http addr", with("SVC_HTTP_ADDR", "8080"), []string{"HTTP_ADDR"}},
		{"negative http timeouts", with("SVC_HTTP_SHUTDOWN_TIMEOUT", "-1s", "SVC_HTTP_READ_HEADER_TIMEOUT", "-1s",
			"SVC_HTTP_READ_TIMEOUT", "-1s", "SVC_HTTP_IDLE_TIMEOUT", "-1s"),
			[]string{"HTTP_SHUTDOWN_TIMEOUT must be positive", "HTTP_READ_HEADER_TIMEOUT must be positive",
				"HTTP_READ_TIMEOUT must be positive", "HTTP_IDLE_TIMEOUT must be positive"}},
		{"read timeout shorter than the header's", with("SVC_HTTP_READ_TIMEOUT", "2s", "SVC_HTTP_READ_HEADER_TIMEOUT", "3s"),
			[]string{"HTTP_READ_TIMEOUT (2s) must not be shorter than HTTP_READ_HEADER_TIMEOUT (3s)"}},
		{"default read timeout shorter than the header's", with("SVC_HTTP_READ_TIMEOUT", "0s", "SVC_HTTP_READ_HEADER_TIMEOUT", "1m"),
			[]string{"HTTP_READ_TIMEOUT (30s) must not be shorter than HTTP_READ_HEADER_TIMEOUT (1m0s)"}},
		{"aws endpoint scheme", with("SVC_AWS_ENDPOINT_URL", "ftp://localhost"), []string{"AWS_ENDPOINT_URL"}},
		{"aws endpoint relative", with("SVC_AWS_ENDPOINT_URL", "localhost:4566"), []string{"AWS_ENDPOINT_URL"}},
		{"dynamodb endpoint relative", with("SVC_AWS_ENDPOINT_URL_DYNAMODB", "localhost:8000"), []string{"AWS_ENDPOINT_URL_DYNAMODB"}},
		{"s3 endpoint scheme", with("SVC_AWS_ENDPOINT_URL_S3", "s3://bucket"), []string{"AWS_ENDPOINT_URL_S3"}},
		{"aws half key", with("SVC_AWS_ACCESS_KEY_ID", "AKIA"), []string{"AWS_SECRET_ACCESS_KEY"}},
		{"aws empty region", with("SVC_AWS_REGION", " "), nil},
		{"kafka brokers", with("SVC_KAFKA_BROKERS", "k1:9092,k2,:9092,k3:0"),
			[]string{"KAFKA_BROKERS entry 2", "KAFKA_BROKERS entry 3", "KAFKA_BROKERS entry 4"}},
		{"kafka missing", without("SVC_KAFKA_BROKERS"), []string{"KAFKA_BROKERS is required"}},
		{"postgres scheme", with("SVC_POSTGRES_URL", "mysql://u:hunter2@h/db"), []string{"POSTGRES_URL"}},
		{"postgres unparsable", with("SVC_POSTGRES_URL", "postgres://u:hunter2@h:port/db"), []string{"POSTGRES_URL"}},
		{"search url", with("SVC_READ_OPENSEARCH_URL", "/relative"), []string{"OPENSEARCH_URL"}},
		{"search flavor", with("SVC_READ_SEARCH_FLAVOR", "solr"), []string{"SEARCH_FLAVOR"}},
		{"search password alone", with("SVC_READ_SEARCH_PASSWORD", "pw"), []string{"SEARCH_USERNAME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.LoadFrom[testConfig]("SVC_", tt.env)
			if tt.want == nil {
				// " " is a non-empty region; the SDK rejects it later, so Load accepts it.
				if err != nil {
					t.Fatalf("LoadFrom: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadFrom: want error, got nil")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}

func TestLoadFromIgnoresProcessEnvironment(t *testing.T) {
	t.Setenv("SVC_HTTP_ADDR", ":7777")
	cfg, err := config.LoadFrom[testConfig]("SVC_", minimal())
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.HTTP.Addr != ":8080" {
		t.Errorf("HTTP.Addr = %q, want the default :8080", cfg.HTTP.Addr)
	}
}

func TestLoadReadsProcessEnvironment(t *testing.T) {
	for k, v := range with("SVC_HTTP_ADDR", ":7777") {
		t.Setenv(k, v)
	}
	cfg, err := config.Load[testConfig]("SVC_")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.HTTP.Addr != ":7777" {
		t.Errorf("HTTP.Addr = %q, want :7777", cfg.HTTP.Addr)
	}
}

// valueValidated has a value-receiver Validate, which Load must also find.
type valueValidated struct {
	Name string `env:"NAME"`
}

func (v valueValidated) Validate() error {
	if v.Name == "" {
		return errors.New("NAME is required")
	}
	return nil
}

func TestLoadFromValueReceiverValidator(t *testing.T) {
	t.Parallel()
	if _, err := config.LoadFrom[valueValidated]("", nil); err == nil || !strings.Contains(err.Error(), "NAME is required") {
		t.Errorf("LoadFrom error = %v, want NAME is required", err)
	}
	got, err := config.LoadFrom[valueValidated]("", map[string]string{"NAME": "x"})
	if err != nil || got.Name != "x" {
		t.Errorf("LoadFrom = %+v, %v; want Name x", got, err)
	}
}

// TestHTTPZeroTimeoutsAreTheDefaults keeps the defaults of an HTTP built in code equal to the tags' and checks
// that one built before the read and idle timeouts existed still validates.
func TestHTTPZeroTimeoutsAreTheDefaults(t *testing.T) {
	t.Parallel()
	loaded, err := config.LoadFrom[testConfig]("SVC_", with("SVC_HTTP_ADDR", "127.0.0.1:0"))
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if got := (config.HTTP{Addr: "127.0.0.1:0"}).WithDefaultTimeouts(); got != loaded.HTTP {
		t.Errorf("WithDefaultTimeouts = %+v, want the tags' defaults %+v", got, loaded.HTTP)
	}
	built := config.HTTP{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, ReadHeaderTimeout: 5 * time.Second}
	if err := built.Validate(); err != nil {
		t.Errorf("Validate with zero timeouts: %v", err)
	}
	set := config.HTTP{Addr: "127.0.0.1:0", ReadTimeout: time.Minute}
	if got := set.WithDefaultTimeouts().ReadTimeout; got != time.Minute {
		t.Errorf("WithDefaultTimeouts changed a set ReadTimeout to %v", got)
	}
}

// TestServiceEndpointsOverrideTheCommonOne: AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_S3 win over
// AWS_ENDPOINT_URL for their service; without them every service uses the common one.
func TestServiceEndpointsOverrideTheCommonOne(t *testing.T) {
	t.Parallel()
	common := config.AWS{EndpointURL: "http://127.0.0.1:15000"}
	if common.DynamoDBEndpoint() != common.EndpointURL || common.S3Endpoint() != common.EndpointURL {
		t.Errorf("endpoints %q, %q; want the common one for both", common.DynamoDBEndpoint(), common.S3Endpoint())
	}
	split := config.AWS{EndpointURL: "http://127.0.0.1:15000", EndpointDynamoDB: "http://127.0.0.1:8000"}
	if split.DynamoDBEndpoint() != "http://127.0.0.1:8000" || split.S3Endpoint() != "http://127.0.0.1:15000" {
		t.Errorf("endpoints %q, %q; want DynamoDB's own and the common one for S3", split.DynamoDBEndpoint(), split.S3Endpoint())
	}
	if (config.AWS{}).DynamoDBEndpoint() != "" {
		t.Error("no endpoint set: want AWS's own (empty)")
	}
}
