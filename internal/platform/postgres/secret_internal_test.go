package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// fakeSecrets serves one secret value and counts the reads; fail makes the next reads fail.
type fakeSecrets struct {
	value string
	reads int
	fail  bool
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput,
	_ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.reads++
	if f.fail {
		return nil, errors.New("throttled")
	}
	return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretString: aws.String(f.value)}, nil
}

func secretJSON(password string) string {
	return `{"engine":"postgres","host":"db.example","port":6432,"username":"chat","password":"` + password +
		`","dbname":"chat"}`
}

// step is one connection attempt: the clock moves by advance, the secret may change, and the attempt succeeds
// (the pool's AfterConnect runs) or not; wantReads is the total of secret reads afterwards.
type step struct {
	advance   time.Duration
	value     string
	fail      bool
	succeeds  bool
	wantReads int
	wantPass  string
	wantErr   bool
}

func TestSecretCredentialsRereads(t *testing.T) {
	t.Parallel()
	const refresh, retry = 5 * time.Minute, 5 * time.Second
	tests := []struct {
		name  string
		steps []step
	}{
		{"read once, kept while young", []step{
			{succeeds: true, wantReads: 1, wantPass: "p1"},
			{advance: time.Minute, value: secretJSON("p2"), succeeds: true, wantReads: 1, wantPass: "p1"},
			{advance: refresh - time.Minute - time.Nanosecond, succeeds: true, wantReads: 1, wantPass: "p1"},
		}},
		{"re-read once old", []step{
			{succeeds: true, wantReads: 1, wantPass: "p1"},
			{advance: refresh, value: secretJSON("p2"), succeeds: true, wantReads: 2, wantPass: "p2"},
		}},
		{"re-read after a failed connection, not sooner than retry", []step{
			{succeeds: true, wantReads: 1, wantPass: "p1"},
			{advance: time.Second, value: secretJSON("p2"), succeeds: false, wantReads: 1, wantPass: "p1"},
			{advance: retry - time.Second - time.Nanosecond, succeeds: false, wantReads: 1, wantPass: "p1"},
			{advance: time.Nanosecond, succeeds: true, wantReads: 2, wantPass: "p2"},
			{advance: time.Minute, value: secretJSON("p3"), succeeds: true, wantReads: 2, wantPass: "p2"},
		}},
		{"old value kept when a re-read for age fails", []step{
			{succeeds: true, wantReads: 1, wantPass: "p1"},
			{advance: refresh, fail: true, succeeds: true, wantReads: 2, wantPass: "p1"},
		}},
		{"re-read error returned after a failed connection", []step{
			{succeeds: false, wantReads: 1, wantPass: "p1"},
			{advance: retry, fail: true, wantReads: 2, wantErr: true},
		}},
		{"first read error returned", []step{
			{fail: true, wantReads: 1, wantErr: true},
		}},
		{"malformed secret refused", []step{
			{value: `{"host":"db.example","username":"chat"}`, wantReads: 1, wantErr: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeSecrets{value: secretJSON("p1")}
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			creds := newSecretCredentials(fake, config.Postgres{SecretARN: "chat/db", SecretSSLMode: "require",
				SecretRefresh: refresh, SecretRetry: retry})
			creds.now = func() time.Time { return now }
			for i, s := range tt.steps {
				now = now.Add(s.advance)
				if s.value != "" {
					fake.value = s.value
				}
				fake.fail = s.fail
				cc := baseConnConfig(t)
				err := creds.beforeConnect(context.Background(), cc)
				if (err != nil) != s.wantErr {
					t.Fatalf("step %d: beforeConnect error = %v, want error %v", i, err, s.wantErr)
				}
				if err == nil && cc.Password != s.wantPass {
					t.Errorf("step %d: password %q, want %q", i, cc.Password, s.wantPass)
				}
				if fake.reads != s.wantReads {
					t.Errorf("step %d: %d reads, want %d", i, fake.reads, s.wantReads)
				}
				if s.succeeds {
					_ = creds.afterConnect(context.Background(), nil)
				}
			}
		})
	}
}

func TestSecretCredentialsConnConfig(t *testing.T) {
	t.Parallel()
	fake := &fakeSecrets{value: `{"host":"db.example","port":"6432","username":"chat","password":"p@ss/w:rd","dbname":"reads"}`}
	creds := newSecretCredentials(fake, config.Postgres{SecretARN: "chat/db", SecretSSLMode: "verify-full",
		SecretRefresh: time.Minute})
	cc := baseConnConfig(t)
	if err := creds.beforeConnect(context.Background(), cc); err != nil {
		t.Fatalf("beforeConnect: %v", err)
	}
	if cc.Host != "db.example" || cc.Port != 6432 || cc.User != "chat" || cc.Password != "p@ss/w:rd" || cc.Database != "reads" {
		t.Errorf("conn config = %s@%s:%d/%s password %q", cc.User, cc.Host, cc.Port, cc.Database, cc.Password)
	}
	if cc.TLSConfig == nil || cc.TLSConfig.ServerName != "db.example" || cc.TLSConfig.InsecureSkipVerify {
		t.Errorf("TLS config = %+v, want verify-full for db.example", cc.TLSConfig)
	}
	if len(cc.Fallbacks) != 0 {
		t.Errorf("fallbacks = %d, want none with verify-full", len(cc.Fallbacks))
	}

	fake.value = `{"host":"db.example","username":"chat","password":"hunter2","engine":"mysql"}`
	creds = newSecretCredentials(fake, config.Postgres{SecretARN: "chat/db", SecretSSLMode: "require", SecretRefresh: time.Minute})
	err := creds.beforeConnect(context.Background(), baseConnConfig(t))
	if err == nil || !strings.Contains(err.Error(), `engine "mysql"`) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("beforeConnect with a mysql secret: error %v", err)
	}
}

// baseConnConfig is the connection configuration the pool hands BeforeConnect for a secret-backed pool.
func baseConnConfig(t *testing.T) *pgx.ConnConfig {
	t.Helper()
	pcfg, err := pgxpool.ParseConfig("host=" + unreadHost + " sslmode=disable")
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return pcfg.ConnConfig.Copy()
}
