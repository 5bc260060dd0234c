package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// TestPostgresPoolFromURL opens the stack's Postgres the local way (POSTGRES_URL, no AWS) and queries it.
func TestPostgresPoolFromURL(t *testing.T) {
	t.Parallel()
	svc := newService(t, servicetest.NewLogs(t))
	t.Cleanup(func() { _ = svc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := svc.Postgres(ctx, testkit.MustStack(t).Postgres, config.AWS{})
	if err != nil {
		t.Fatalf("Postgres: %v", err)
	}
	var one int
	if err := pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
}

// TestPostgresRefusesTwoSources checks that the pool is not opened when the configuration names two sources of
// credentials, and that the error does not show the URL's password.
func TestPostgresRefusesTwoSources(t *testing.T) {
	t.Parallel()
	svc := newService(t, servicetest.NewLogs(t))
	t.Cleanup(func() { _ = svc.Close() })
	_, err := svc.Postgres(context.Background(), config.Postgres{URL: "postgres://u:" + password + "@h/db",
		SecretARN: "chat/db", SecretSSLMode: "require", SecretRefresh: time.Minute}, config.AWS{Region: "us-east-1"})
	if err == nil || !strings.Contains(err.Error(), "POSTGRES_SECRET_ARN") || strings.Contains(err.Error(), password) {
		t.Fatalf("Postgres error = %v, want one naming POSTGRES_SECRET_ARN without the password", err)
	}
}
