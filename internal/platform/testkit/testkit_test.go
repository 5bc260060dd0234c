package testkit_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// TestPostgresRoundTrip runs a pgx round trip in a test's own schema: DDL, a parameterised insert of text,
// jsonb and timestamptz, and a read back, and checks that the table landed in that schema only.
func TestPostgresRoundTrip(t *testing.T) {
	t.Parallel()
	pool, schema := testkit.PostgresSchema(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	if _, err := pool.Exec(ctx, `CREATE TABLE rooms (id text PRIMARY KEY, name text NOT NULL,
		meta jsonb NOT NULL, created_at timestamptz NOT NULL)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO rooms VALUES ($1, $2, $3, $4)`,
		"room-1", "雑談", map[string]any{"members": 3}, at); err != nil {
		t.Fatalf("insert: %v", err)
	}

	var (
		name    string
		members int
		created time.Time
	)
	err := pool.QueryRow(ctx, `SELECT name, (meta->>'members')::int, created_at FROM rooms WHERE id = $1`,
		"room-1").Scan(&name, &members, &created)
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	if name != "雑談" || members != 3 || !created.Equal(at) {
		t.Errorf("read back (%q, %d, %v), want (雑談, 3, %v)", name, members, created, at)
	}

	var where string
	if err := pool.QueryRow(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'rooms'
		AND table_schema = current_schema()`).Scan(&where); err != nil {
		t.Fatalf("locate table: %v", err)
	}
	if where != schema {
		t.Errorf("table created in schema %q, want the test's own %q", where, schema)
	}
}

// TestPostgresSchemasAreIsolated checks that two tests' schemas do not see each other's tables.
func TestPostgresSchemasAreIsolated(t *testing.T) {
	t.Parallel()
	a, _ := testkit.PostgresSchema(t)
	b, _ := testkit.PostgresSchema(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := a.Exec(ctx, `CREATE TABLE only_in_a (id int)`); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := b.Exec(ctx, `SELECT * FROM only_in_a`); err == nil {
		t.Error("a table of one schema is visible through the other's search_path")
	}
}

// TestUniqueName checks that names are unique per call and fit every server's naming rules.
func TestUniqueName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z][a-z0-9-]{2,62}$`)
	seen := map[string]bool{}
	for range 100 {
		n := testkit.UniqueName(t, "x")
		if !valid.MatchString(n) {
			t.Fatalf("UniqueName = %q, not lower-case letters, digits and hyphens of at most 63", n)
		}
		if seen[n] {
			t.Fatalf("UniqueName repeated %q", n)
		}
		seen[n] = true
	}
}
