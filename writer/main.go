// Command writer is the command side: it takes domain commands over HTTP (the HTTP contract of DESIGN.md),
// decides them on the aggregates rebuilt from the DynamoDB journal (hot in memory), and appends their events.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
	"github.com/cqrses-aws/pipeline/writer/ports"
)

const name = "writer"

// CheckJournal is the readiness check that the journal table exists and answers.
const CheckJournal = "journal"

// CheckTables is the readiness check, present when the writer creates its tables, that all of them exist.
const CheckTables = "tables"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	if len(os.Args) == 2 && os.Args[1] == backfillCommand {
		code = service.Exec(ctx, name, newBackfillMain)
	} else {
		code = service.Exec(ctx, name, NewMain)
	}
	stop()
	os.Exit(code)
}

// Main is the writer process: Run serves until ctx ends, then shuts down in order (see service.Service); Close
// releases the clients when Run is never called.
type Main struct {
	*service.Service
	// Store is the journal the writer appends to; tests read it back.
	Store eventstore.Store
}

// NewMain builds the writer from cfg, logging to logOut: the DynamoDB and S3 clients with their readiness checks,
// the event store, the repositories with their hot caches, token verification, the rate limiter and the Gin API.
// It connects to nothing yet (with DYNAMODB_CREATE_TABLES a worker creates the tables once the server answers);
// it fails when the configuration is invalid.
func NewMain(ctx context.Context, cfg Config, logOut io.Writer) (*Main, error) {
	svc, err := service.New(service.Config{Name: name, HTTP: cfg.HTTP, Log: cfg.Log, LogOutput: logOut, Settings: cfg})
	if err != nil {
		return nil, err
	}
	m, err := build(ctx, svc, cfg)
	if err != nil {
		return nil, errors.Join(err, svc.Close())
	}
	return m, nil
}

func build(ctx context.Context, svc *service.Service, cfg Config) (*Main, error) {
	if err := svc.Tracing(ctx, cfg.Tracing); err != nil {
		return nil, err
	}
	clients, err := svc.AWS(ctx, cfg.AWS)
	if err != nil {
		return nil, err
	}
	store, err := eventstore.NewDynamoDB(eventstore.DynamoDBConfig{
		DynamoDB: clients.DynamoDB, S3: clients.S3, Tables: eventstore.TablesWithPrefix(cfg.Journal.TablePrefix),
		Bucket: cfg.Journal.SnapshotBucket, InlineSnapshotMaxBytes: cfg.Journal.InlineSnapshotMaxBytes,
		CallTimeout: cfg.Journal.CallTimeout,
	})
	if err != nil {
		return nil, err
	}
	svc.AddCheck(CheckJournal, store.Ping)
	if cfg.Journal.CreateTables {
		// The journal answering is not enough: a command also needs the idempotency, snapshot and entity
		// tables, which are created after it. Ready only once every table exists.
		var created atomic.Bool
		svc.AddCheck(CheckTables, func(context.Context) error {
			if !created.Load() {
				return errors.New("tables not created yet")
			}
			return nil
		})
		svc.Go("create-tables", func(ctx context.Context) error {
			err := createTables(ctx, svc, store)
			created.Store(err == nil && ctx.Err() == nil)
			return err
		})
	}

	repo := adapters.RepositoryConfig{
		Store: adapters.TracedStore{Store: store}, SnapshotEvery: cfg.Journal.SnapshotEvery,
		CacheEntries: cfg.Journal.CacheEntries, CacheBytes: cfg.Journal.CacheBytes, Log: svc.Logger(),
	}
	rooms, err := adapters.NewEventRepository[*domain.Room, domain.RoomID](adapters.RoomKind, repo)
	if err != nil {
		return nil, err
	}
	accounts, err := adapters.NewEventRepository[*domain.Account, domain.AccountID](adapters.AccountKind, repo)
	if err != nil {
		return nil, err
	}
	// The verifier refreshes JWKS keys in the background until the service's construction context ends; Exec
	// keeps that context for the process's life.
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return nil, err
	}
	limiter, err := ratelimit.New(cfg.RateLimit, time.Now)
	if err != nil {
		return nil, err
	}
	if err := registerCacheMetrics(svc, rooms, accounts); err != nil {
		return nil, err
	}
	// Closers run after the server stopped: no command starts a snapshot any more, the started ones end.
	svc.OnClose("snapshots", func() error {
		rooms.WaitSnapshots()
		accounts.WaitSnapshots()
		return nil
	})

	engine := ginapp.New(svc.Logger(), svc.HTTPMetrics(), ginapp.WithTracerName(tracing.ScopeWriter))
	commands := app.New(rooms, accounts, adapters.MessagesEventstoreReader{Store: store}, adapters.ULIDs{})
	tokens, err := cfg.Consistency.Key(cfg.Auth.HS256Secret)
	if err != nil {
		return nil, err
	}
	ports.NewHTTPServer(commands, adapters.IdempotencyEventstoreLookup{Store: store}, svc.Logger(), ports.WithTokenKey(tokens)).
		Register(engine, auth.Middleware(verifier), ratelimit.Middleware(limiter, auth.AccountID),
			ports.Deadline(cfg.Command.Timeout))
	svc.Mount(engine)
	return &Main{Service: svc, Store: store}, nil
}

// createTables makes the journal, snapshot and idempotency tables and the snapshot bucket, retrying while the
// server is unreachable, so a local writer can start before the stack; it returns when they exist or ctx ends.
func createTables(ctx context.Context, svc *service.Service, store *eventstore.DynamoDB) error {
	for delay := 200 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		err := store.CreateTables(ctx)
		if err == nil {
			svc.Logger().Info("journal tables ready")
			return nil
		}
		if !errors.Is(err, eventstore.ErrUnavailable) {
			return fmt.Errorf("create journal tables: %w", err)
		}
		svc.Logger().Warn("journal tables not created yet; retrying", "error", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}
