package progress_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/queryapi/progress"
)

// TestListenWakesOnNotifications listens on a channel of the real Postgres: every NOTIFY calls back, and so does
// a reconnection after the server ended the listening connection.
func TestListenWakesOnNotifications(t *testing.T) {
	t.Parallel()
	st := testkit.MustStack(t)
	pool, err := pgxpool.New(context.Background(), st.Postgres.URL.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	channel := testkit.UniqueName(t, "progress")
	var calls atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- progress.Listen(ctx, pool, channel, func() { calls.Add(1) }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen: %v", err)
		}
	})
	// One call on connecting (notifications sent while not listening are lost, so the watcher must look).
	testkit.Eventually(t, 10*time.Second, "a call on connecting", func() bool { return calls.Load() >= 1 })
	listening := func() bool {
		var n int
		err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE query = $1", `LISTEN "`+channel+`"`).Scan(&n)
		return err == nil && n == 1
	}
	testkit.Eventually(t, 10*time.Second, "the LISTEN connection shows", listening)

	before := calls.Load()
	if _, err := pool.Exec(ctx, "SELECT pg_notify($1, 'views_v1')", channel); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "a call per notification", func() bool { return calls.Load() > before })

	// The server ends the listening connection: Listen connects again and calls once more.
	before = calls.Load()
	if _, err := pool.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1",
		`LISTEN "`+channel+`"`); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "a call after reconnecting", func() bool { return calls.Load() > before })
	testkit.Eventually(t, 10*time.Second, "listening again", listening)
	before = calls.Load()
	if _, err := pool.Exec(ctx, "SELECT pg_notify($1, 'views_v1')", channel); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "notifications after reconnecting", func() bool { return calls.Load() > before })
}
