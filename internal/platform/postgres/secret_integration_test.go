package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/postgres"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// invalidPassword is Postgres's SQLSTATE for a wrong password.
const invalidPassword = "28P01"

// dbSecret is the RDS-shaped secret value for the local stack's Postgres, with password as given.
type dbSecret struct {
	value func(password string) string
	good  string
}

// localDBSecret describes the stack's Postgres (from its POSTGRES_URL) as the JSON RDS keeps in a secret.
func localDBSecret(t *testing.T) dbSecret {
	t.Helper()
	u, err := url.Parse(testkit.MustStack(t).Postgres.URL.Reveal())
	if err != nil {
		t.Fatal("the stack's POSTGRES_URL does not parse")
	}
	good, _ := u.User.Password()
	return dbSecret{good: good, value: func(password string) string {
		b, err := json.Marshal(map[string]any{"engine": "postgres", "host": u.Hostname(), "port": json.Number(u.Port()),
			"username": u.User.Username(), "password": password, "dbname": u.Path[1:]})
		if err != nil {
			t.Fatalf("marshal secret: %v", err)
		}
		return string(b)
	}}
}

// secretsClient is a Secrets Manager client for the stack's moto.
func secretsClient(t *testing.T) *secretsmanager.Client {
	t.Helper()
	st := testkit.MustStack(t)
	sdk, err := awsclient.LoadSDKConfig(context.Background(), st.AWS)
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	return secretsmanager.NewFromConfig(sdk, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(st.AWS.EndpointURL)
	})
}

// createSecret stores value under a unique name, deletes it when the test ends, and returns its ARN.
func createSecret(t *testing.T, sm *secretsmanager.Client, value string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(testkit.UniqueName(t, "pg")), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("create secret (is moto up? %s): %v", testkit.HowToStart, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: out.ARN,
			ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
			t.Errorf("delete secret: %v", err)
		}
	})
	return *out.ARN
}

// rotate stores value as the secret's new current version, as a rotation does.
func rotate(t *testing.T, sm *secretsmanager.Client, arn, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn),
		SecretString: aws.String(value)}); err != nil {
		t.Fatalf("put secret value: %v", err)
	}
}

// secretPool opens a pool configured by the secret only (no POSTGRES_URL) and closes it when the test ends.
func secretPool(t *testing.T, arn string, refresh, retry time.Duration) *pgxpool.Pool {
	t.Helper()
	cfg := config.Postgres{SecretARN: arn, SecretSSLMode: "disable", SecretRefresh: refresh, SecretRetry: retry}
	pool, err := postgres.NewPool(context.Background(), cfg, testkit.MustStack(t).AWS)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// freshQuery closes the pool's connections and runs a query, so that it needs a new connection; it returns the
// current user or the error.
func freshQuery(t *testing.T, pool *pgxpool.Pool) (string, error) {
	t.Helper()
	pool.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var user string
	err := pool.QueryRow(ctx, "SELECT current_user").Scan(&user)
	return user, err
}

func wantUser(t *testing.T, pool *pgxpool.Pool, step string) {
	t.Helper()
	user, err := freshQuery(t, pool)
	if err != nil {
		t.Fatalf("%s: query: %v", step, err)
	}
	if user == "" {
		t.Fatalf("%s: current_user is empty", step)
	}
}

func wantWrongPassword(t *testing.T, pool *pgxpool.Pool, step string) {
	t.Helper()
	_, err := freshQuery(t, pool)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != invalidPassword {
		t.Fatalf("%s: query error = %v, want SQLSTATE %s (wrong password)", step, err, invalidPassword)
	}
}

// TestSecretPoolFollowsRotation connects with the secret only, then rotates its password to a wrong one and back:
// each new connection uses the value current at the time (SecretRefresh is tiny, so every one re-reads).
func TestSecretPoolFollowsRotation(t *testing.T) {
	t.Parallel()
	db, sm := localDBSecret(t), secretsClient(t)
	arn := createSecret(t, sm, db.value(db.good))
	pool := secretPool(t, arn, time.Nanosecond, 0)

	wantUser(t, pool, "with the secret")
	rotate(t, sm, arn, db.value("rotated-wrong-password"))
	wantWrongPassword(t, pool, "after rotating to a wrong password")
	rotate(t, sm, arn, db.value(db.good))
	wantUser(t, pool, "after rotating back")
}

// TestSecretPoolRereadsAfterFailure keeps the secret for an hour, yet re-reads it at once after a connection
// failed, and keeps a value that works.
func TestSecretPoolRereadsAfterFailure(t *testing.T) {
	t.Parallel()
	db, sm := localDBSecret(t), secretsClient(t)
	arn := createSecret(t, sm, db.value("not-yet-rotated"))
	pool := secretPool(t, arn, time.Hour, 0)

	wantWrongPassword(t, pool, "before the rotation")
	rotate(t, sm, arn, db.value(db.good))
	wantUser(t, pool, "after the rotation, within the refresh interval")
	rotate(t, sm, arn, db.value("changed-again"))
	wantUser(t, pool, "a working value is kept for the refresh interval")
}
