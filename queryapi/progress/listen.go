package progress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen keeps one connection of pool listening on a Postgres notification channel and calls notify for every
// notification, and once after each (re)connection since notifications sent while disconnected are lost. A
// lost connection is made again with backoff (100 ms up to 5 s), logged. It returns nil when ctx ends.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel string, notify func(), log *slog.Logger) error {
	delay := 100 * time.Millisecond
	for {
		err := listenOnce(ctx, pool, channel, notify, func() { delay = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("progress notifications interrupted; reconnecting", "channel", channel, "error", err,
			"retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// listenOnce listens on one connection taken out of the pool until it fails.
func listenOnce(ctx context.Context, pool *pgxpool.Pool, channel string, notify, connected func()) error {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire a connection: %w", err)
	}
	// The connection leaves the pool: it keeps its LISTEN state and is closed here, never reused.
	conn := pc.Hijack()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(ctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen on %s: %w", channel, err)
	}
	connected()
	notify()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			return fmt.Errorf("wait for a notification on %s: %w", channel, err)
		}
		notify()
	}
}
