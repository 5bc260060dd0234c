package testkit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresSchema creates a schema with a unique name and returns it with a pool whose connections have it as
// their search_path, so unqualified names land in it; when the test ends the pool is closed and the schema
// dropped with everything in it.
func PostgresSchema(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	st := MustStack(tb)
	name := strings.ReplaceAll(UniqueName(tb, "s"), "-", "_")
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	admin, err := pgx.Connect(ctx, st.Postgres.URL.Reveal())
	if err != nil {
		unreachable(tb, "PostgreSQL", "POSTGRES_URL", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("testkit: create schema %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		conn, err := pgx.Connect(ctx, st.Postgres.URL.Reveal())
		if err != nil {
			tb.Errorf("testkit: drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("testkit: drop schema %s: %v", name, err)
		}
	})

	cfg, err := pgxpool.ParseConfig(st.Postgres.URL.Reveal())
	if err != nil {
		tb.Fatalf("testkit: parse POSTGRES_URL: %v", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("testkit: postgres pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	pingCtx, cancelPing := context.WithTimeout(ctx, 5*time.Second)
	defer cancelPing()
	if err := pool.Ping(pingCtx); err != nil {
		unreachable(tb, "PostgreSQL", "POSTGRES_URL", err)
	}
	return pool, name
}
