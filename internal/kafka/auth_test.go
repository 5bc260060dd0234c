package kafka_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// mskBroker is an MSK-style broker address: franz-go reads the signing region from it. Nothing dials it.
const mskBroker = "b-1.chat.abc123.c2.kafka.us-east-1.amazonaws.com:9098"

// newClient builds a client from cfg and closes it when the test ends; building one dials nothing.
func newClient(t *testing.T, cfg config.Kafka) *kgo.Client {
	t.Helper()
	cl, err := kafka.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// mechanisms returns the SASL mechanisms a client was built with.
func mechanisms(t *testing.T, cl *kgo.Client) []sasl.Mechanism {
	t.Helper()
	ms, ok := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
	if !ok {
		t.Fatalf("OptValue(SASL) is %T, want []sasl.Mechanism", cl.OptValue(kgo.SASL))
	}
	return ms
}

func TestClientSecurityOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       config.Kafka
		mechanism string // "" for none
		tls       bool
	}{
		{"local: none", config.Kafka{}, "", false},
		{"msk iam", config.Kafka{TLS: true, SASLMechanism: config.SASLAWSMSKIAM}, "AWS_MSK_IAM", true},
		{"tls only", config.Kafka{TLS: true}, "", true},
		{"plain", config.Kafka{TLS: true, SASLMechanism: config.SASLPlain, SASLUsername: "u", SASLPassword: "p"}, "PLAIN", true},
		{"scram 256", config.Kafka{SASLMechanism: config.SASLScramSHA256, SASLUsername: "u", SASLPassword: "p"}, "SCRAM-SHA-256", false},
		{"scram 512", config.Kafka{TLS: true, SASLMechanism: config.SASLScramSHA512, SASLUsername: "u", SASLPassword: "p"}, "SCRAM-SHA-512", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Brokers, tt.cfg.TopicPrefix = []string{mskBroker}, "chat"
			cl := newClient(t, tt.cfg)
			ms := mechanisms(t, cl)
			switch {
			case tt.mechanism == "" && len(ms) != 0:
				t.Errorf("SASL mechanisms = %d, want none", len(ms))
			case tt.mechanism != "" && (len(ms) != 1 || ms[0].Name() != tt.mechanism):
				t.Errorf("SASL mechanisms = %v, want one named %s", ms, tt.mechanism)
			}
			tc, _ := cl.OptValue(kgo.DialTLSConfig).(*tls.Config)
			if (tc != nil) != tt.tls {
				t.Fatalf("TLS config = %v, want TLS %v", tc, tt.tls)
			}
			if tc != nil && tc.MinVersion != tls.VersionTLS12 {
				t.Errorf("TLS MinVersion = %x, want TLS 1.2", tc.MinVersion)
			}
		})
	}
}

func TestNewClientRefusesIAMWithoutTLS(t *testing.T) {
	t.Parallel()
	_, err := kafka.NewClient(config.Kafka{Brokers: []string{mskBroker}, TopicPrefix: "chat",
		SASLMechanism: config.SASLAWSMSKIAM})
	if err == nil || !strings.Contains(err.Error(), "KAFKA_TLS") {
		t.Fatalf("NewClient error = %v, want one naming KAFKA_TLS", err)
	}
}

// TestMSKIAMSignsWithDefaultChain runs the AWS_MSK_IAM handshake's first step: the credentials come from the SDK's
// default chain (here the environment variables it reads) and the message is signed for the broker's region.
// It sets process environment variables, so it does not run in parallel.
func TestMSKIAMSignsWithDefaultChain(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDMSKDEFAULTCHAIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "msk-secret")
	t.Setenv("AWS_SESSION_TOKEN", "msk-session-token")
	cl := newClient(t, config.Kafka{Brokers: []string{mskBroker}, TopicPrefix: "chat", TLS: true,
		SASLMechanism: config.SASLAWSMSKIAM})
	ms := mechanisms(t, cl)
	if len(ms) != 1 {
		t.Fatalf("SASL mechanisms = %d, want 1", len(ms))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, first, err := ms[0].Authenticate(ctx, mskBroker)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	var msg map[string]string
	if err := json.Unmarshal(first, &msg); err != nil {
		t.Fatalf("first message is not JSON: %v", err)
	}
	checks := map[string]func(string) bool{
		"action": func(v string) bool { return v == "kafka-cluster:Connect" },
		"host":   func(v string) bool { return v == strings.TrimSuffix(mskBroker, ":9098") },
		"x-amz-credential": func(v string) bool {
			return strings.HasPrefix(v, "AKIDMSKDEFAULTCHAIN/") && strings.HasSuffix(v, "/us-east-1/kafka-cluster/aws4_request")
		},
		"x-amz-security-token": func(v string) bool { return v == "msk-session-token" },
		"x-amz-signature":      func(v string) bool { return len(v) == 64 },
	}
	for key, ok := range checks {
		if !ok(msg[key]) {
			t.Errorf("%s = %q", key, msg[key])
		}
	}
}
