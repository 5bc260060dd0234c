// Package views is the Postgres projection of the read model: each version is a schema "<name>_v<N>" of tables
// (accounts, rooms, members, messages) written in one transaction with the aggregates' seqs and the Kafka
// offsets, and the stable schema "<name>" holds one view per table pointing at the live version.
package views

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

var _ projection.Projection = (*Projection)(nil)

// viewTables are the tables the stable schema shows, one view each; aggregates (the applied seq of each
// aggregate) serves read-your-writes.
var viewTables = []string{"accounts", "rooms", "members", "messages", "aggregates"}

// Projection is the views read model over one Postgres database; it is safe for concurrent use, and several
// processes may use the same database at once.
type Projection struct {
	pool    *pgxpool.Pool
	name    string
	version int
}

// New returns the projection cfg describes over pool; it fails when cfg is invalid. It connects to nothing.
func New(pool *pgxpool.Pool, cfg Config) (*Projection, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("views config: %w", err)
	}
	if pool == nil {
		return nil, errors.New("views config: no postgres pool")
	}
	return &Projection{pool: pool, name: cfg.Name, version: cfg.Version}, nil
}

// Name returns the stable name, which is also the schema of views.
func (p *Projection) Name() string { return p.name }

// Version returns the version this code builds.
func (p *Projection) Version() int { return p.version }

// Live returns the version the stable schema's views point at, with ok false when there are none yet.
func (p *Projection) Live(ctx context.Context) (int, bool, error) {
	v, ok, err := p.live(ctx, p.pool)
	if err != nil {
		return 0, false, fmt.Errorf("read live version of %s: %w", p.name, err)
	}
	return v, ok, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (p *Projection) live(ctx context.Context, q querier) (int, bool, error) {
	liveView := pgx.Identifier{p.name, "live"}.Sanitize()
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", liveView).Scan(&exists); err != nil {
		return 0, false, err
	}
	if !exists {
		return 0, false, nil
	}
	var v int
	if err := q.QueryRow(ctx, "SELECT version FROM "+liveView).Scan(&v); err != nil {
		return 0, false, err
	}
	return v, true, nil
}

// Versions returns the versions whose schema exists, ascending.
func (p *Projection) Versions(ctx context.Context) ([]int, error) {
	prefix := p.name + "_v"
	rows, err := p.pool.Query(ctx, "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", prefix)
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", p.name, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", p.name, err)
	}
	var versions []int
	for _, n := range names {
		digits := strings.TrimPrefix(n, prefix)
		if v, err := strconv.Atoi(digits); err == nil && v > 0 && strconv.Itoa(v) == digits {
			versions = append(versions, v)
		}
	}
	slices.Sort(versions)
	return versions, nil
}

// Switch points the stable schema's views at version to in one transaction if they point at from (0: none),
// so a reader sees the old tables or the new ones; it fails when to's schema does not exist, and with
// projection.ErrSwitchConflict when the live version is not from (read under the switch's lock).
//
// Readers lock the views one by one as a query names them, so a switch waiting for one view while holding
// another could deadlock with a reader, and Postgres would then cancel either. The switch therefore waits at most
// switchLockTimeout for its locks, gives way (rolling back) and tries again, so readers are never cancelled.
func (p *Projection) Switch(ctx context.Context, from, version int) error {
	delay := time.Millisecond
	for {
		err := p.trySwitch(ctx, from, version)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != codeLockNotAvailable && pgErr.Code != codeDeadlock) {
			if err != nil {
				return fmt.Errorf("switch %s to version %d: %w", p.name, version, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("switch %s to version %d: %w (last: %w)", p.name, version, ctx.Err(), err)
		case <-time.After(delay + rand.N(delay)):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// The PostgreSQL error codes a switch retries.
const (
	codeLockNotAvailable = "55P03"
	codeDeadlock         = "40P01"
)

// switchLockTimeout bounds a switch's wait for the views' locks; it stays well below deadlock_timeout (1 s by
// default) so that the switch, not a reader, gives way.
const switchLockTimeout = "100ms"

func (p *Projection) trySwitch(ctx context.Context, from, version int) error {
	target := projection.TargetName(p.name, version)
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if err := lockXact(ctx, tx, "views-stable:"+p.name); err != nil {
			return err
		}
		live, _, err := p.live(ctx, tx)
		if err != nil {
			return err
		}
		if live != from {
			return fmt.Errorf("%w: live is version %d, not %d", projection.ErrSwitchConflict, live, from)
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", target).
			Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("schema %s does not exist", target)
		}
		views := make([]string, 0, len(viewTables)+1)
		for _, t := range append(slices.Clone(viewTables), "live") {
			views = append(views, pgx.Identifier{p.name, t}.Sanitize())
		}
		rows, _ := tx.Query(ctx, "SELECT v FROM unnest($1::text[]) AS v WHERE to_regclass(v) IS NOT NULL", views)
		existing, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue("SET LOCAL lock_timeout = '" + switchLockTimeout + "'")
		if len(existing) > 0 {
			b.Queue("LOCK TABLE " + strings.Join(existing, ", ") + " IN ACCESS EXCLUSIVE MODE")
		}
		b.Queue("CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{p.name}.Sanitize())
		for _, v := range existing {
			b.Queue("DROP VIEW " + v)
		}
		for _, t := range viewTables {
			b.Queue("CREATE VIEW " + pgx.Identifier{p.name, t}.Sanitize() + " AS SELECT * FROM " +
				pgx.Identifier{target, t}.Sanitize())
		}
		b.Queue("CREATE VIEW " + pgx.Identifier{p.name, "live"}.Sanitize() + " AS SELECT " +
			strconv.Itoa(version) + "::int AS version")
		b.Queue("SELECT pg_notify($1, $2)", ProgressChannel(p.name), target)
		return tx.SendBatch(ctx, b).Close()
	})
}

// Drop deletes version's schema with everything in it; a missing one is no error, and the live one fails
// with projection.ErrLive.
func (p *Projection) Drop(ctx context.Context, version int) error {
	target := projection.TargetName(p.name, version)
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if err := lockXact(ctx, tx, "views-stable:"+p.name); err != nil {
			return err
		}
		if err := lockXact(ctx, tx, "views-target:"+target); err != nil {
			return err
		}
		live, ok, err := p.live(ctx, tx)
		if err != nil {
			return err
		}
		if ok && live == version {
			return projection.ErrLive
		}
		_, err = tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{target}.Sanitize()+" CASCADE")
		return err
	})
	if err != nil {
		return fmt.Errorf("drop %s: %w", target, err)
	}
	return nil
}

// lockXact takes the transaction-level advisory lock named key, waiting for it.
func lockXact(ctx context.Context, tx pgx.Tx, key string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	return nil
}
