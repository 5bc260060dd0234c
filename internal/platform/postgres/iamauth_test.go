package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/postgres"
)

// TestIAMAuthTokenAsPassword checks that with POSTGRES_IAM_AUTH every new connection signs in with an RDS IAM
// token for its user, host and port, signed with the configured credentials and region; signing is local.
func TestIAMAuthTokenAsPassword(t *testing.T) {
	t.Parallel()
	const endpoint = "chat.cluster-abc123.eu-west-1.rds.amazonaws.com:5432"
	pcfg, err := postgres.PoolConfig(context.Background(),
		config.Postgres{URL: "postgres://app_iam@" + endpoint + "/chat?sslmode=require", IAMAuth: true},
		config.AWS{Region: "eu-west-1", AccessKeyID: "AKIDIAMAUTHTEST", SecretAccessKey: "iam-secret"})
	if err != nil {
		t.Fatalf("PoolConfig: %v", err)
	}
	if pcfg.BeforeConnect == nil {
		t.Fatal("BeforeConnect is nil, want the IAM token hook")
	}
	var tokens []string
	for range 2 {
		cc := pcfg.ConnConfig.Copy()
		if err := pcfg.BeforeConnect(context.Background(), cc); err != nil {
			t.Fatalf("BeforeConnect: %v", err)
		}
		tokens = append(tokens, cc.Password)
	}
	tok := tokens[0]
	for _, want := range []string{endpoint + "?Action=connect", "DBUser=app_iam", "X-Amz-Signature=",
		"X-Amz-Credential=AKIDIAMAUTHTEST%2F", "%2Feu-west-1%2Frds-db%2Faws4_request"} {
		if !strings.Contains(tok, want) {
			t.Errorf("token %q does not contain %q", tok, want)
		}
	}
	if tokens[1] == "" || !strings.HasPrefix(tokens[1], endpoint) {
		t.Errorf("second connection's password = %q, want a token too", tokens[1])
	}
}

// TestPlainURLHasNoHooks checks the local default: the URL's password, no AWS configuration needed.
func TestPlainURLHasNoHooks(t *testing.T) {
	t.Parallel()
	pcfg, err := postgres.PoolConfig(context.Background(),
		config.Postgres{URL: "postgres://chat:chat-pw@127.0.0.1:15432/chat?sslmode=disable"}, config.AWS{})
	if err != nil {
		t.Fatalf("PoolConfig: %v", err)
	}
	if pcfg.BeforeConnect != nil || pcfg.AfterConnect != nil {
		t.Error("a plain URL pool has connect hooks")
	}
	if cc := pcfg.ConnConfig; cc.User != "chat" || cc.Password != "chat-pw" || cc.Port != 15432 {
		t.Errorf("conn config = %s:%s@…:%d", cc.User, cc.Password, cc.Port)
	}
}

func TestPoolConfigRefusesInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  config.Postgres
		aws  config.AWS
		want string
	}{
		{"no source", config.Postgres{}, config.AWS{Region: "us-east-1"}, "POSTGRES_URL is required"},
		{"iam with password", config.Postgres{URL: "postgres://u:hunter2@h/db", IAMAuth: true},
			config.AWS{Region: "us-east-1"}, "POSTGRES_IAM_AUTH"},
		{"iam without region", config.Postgres{URL: "postgres://u@h/db", IAMAuth: true}, config.AWS{}, "AWS_REGION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := postgres.PoolConfig(context.Background(), tt.cfg, tt.aws)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("PoolConfig error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}
