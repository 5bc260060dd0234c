package views

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Open creates version's schema when it is missing and migrates it to the code's tables, then returns its
// target. An advisory lock makes concurrent Opens of the same version, in any process, take turns.
func (p *Projection) Open(ctx context.Context, version int) (projection.Target, error) {
	if version < 1 {
		return nil, fmt.Errorf("open %s version %d: want 1 or more", p.name, version)
	}
	schema := projection.TargetName(p.name, version)
	if err := p.createAndMigrate(ctx, schema); err != nil {
		return nil, fmt.Errorf("open %s: %w", schema, err)
	}
	if err := p.completeStableViews(ctx, version); err != nil {
		return nil, fmt.Errorf("open %s: %w", schema, err)
	}
	return newTarget(p.pool, schema, ProgressChannel(p.name)), nil
}

// completeStableViews switches version in again when it is live but the stable schema lacks a view this code
// shows (an upgrade that added one), so that readers find every view the code promises.
func (p *Projection) completeStableViews(ctx context.Context, version int) error {
	live, ok, err := p.Live(ctx)
	if err != nil || !ok || live != version {
		return err
	}
	views := make([]string, len(viewTables))
	for i, t := range viewTables {
		views[i] = pgx.Identifier{p.name, t}.Sanitize()
	}
	var missing int
	if err := p.pool.QueryRow(ctx, "SELECT count(*) FROM unnest($1::text[]) AS v WHERE to_regclass(v) IS NULL", views).
		Scan(&missing); err != nil {
		return fmt.Errorf("check the stable views: %w", err)
	}
	if missing == 0 {
		return nil
	}
	return p.Switch(ctx, version, version)
}

func (p *Projection) createAndMigrate(ctx context.Context, schema string) (err error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	key := "views-target:" + schema
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	defer func() {
		_, unlockErr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
		if unlockErr != nil {
			// A session lock dies with its connection: close this one rather than hand it back still locked.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			err = errors.Join(err, fmt.Errorf("unlock %s: %w", key, unlockErr))
		}
	}()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return p.migrate(ctx, schema)
}

// migrate applies the embedded migrations to schema over a database/sql handle whose search_path is schema, so
// that goose keeps a version table per target.
func (p *Projection) migrate(ctx context.Context, schema string) error {
	poolCfg := p.pool.Config()
	cfg := poolCfg.ConnConfig.Copy()
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	var opts []stdlib.OptionOpenDB
	if bc := poolCfg.BeforeConnect; bc != nil {
		// The pool's hook sets the credentials of each connection (an IAM token, a rotated secret's password).
		opts = append(opts, stdlib.OptionBeforeConnect(bc))
	}
	db := stdlib.OpenDB(*cfg, opts...)
	defer db.Close()
	db.SetMaxOpenConns(1)
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, files, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
