// Command queryapi is the query side: it answers reads from the Postgres and search read models, never from
// the journal, shows a caller only the rooms it is a member of, and lets a query wait until the read model has
// applied the caller's own write (read-your-writes).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cqrses-aws/pipeline/internal/openapi"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/projectors/views"
	"github.com/cqrses-aws/pipeline/queryapi/adapters"
	"github.com/cqrses-aws/pipeline/queryapi/app"
	"github.com/cqrses-aws/pipeline/queryapi/cursor"
	"github.com/cqrses-aws/pipeline/queryapi/ports"
	"github.com/cqrses-aws/pipeline/queryapi/progress"
)

const name = "queryapi"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := service.Exec(ctx, name, NewMain)
	stop()
	os.Exit(code)
}

// Main is the query API process: Run serves until ctx ends, then shuts down in order (see service.Service);
// Close releases the clients when Run is never called.
type Main struct {
	*service.Service
}

// NewMain builds the query API from cfg, logging to logOut: the Postgres pool and the search client with their
// readiness checks, the progress watchers of both read models, token verification, the rate limiter and the Gin
// API. It connects to nothing yet; it fails when the configuration is invalid.
func NewMain(ctx context.Context, cfg Config, logOut io.Writer) (*Main, error) {
	svc, err := service.New(service.Config{Name: name, HTTP: cfg.HTTP, Log: cfg.Log, LogOutput: logOut, Settings: cfg})
	if err != nil {
		return nil, err
	}
	if err := build(ctx, svc, cfg); err != nil {
		return nil, errors.Join(err, svc.Close())
	}
	return &Main{Service: svc}, nil
}

func build(ctx context.Context, svc *service.Service, cfg Config) error {
	if err := svc.Tracing(ctx, cfg.Tracing); err != nil {
		return err
	}
	pool, err := svc.Postgres(ctx, cfg.Postgres, cfg.AWS)
	if err != nil {
		return err
	}
	searchClient, err := search.NewClient(cfg.Search, cfg.Query.AcceptOpenSearch, func() (*opensearchapi.Client, error) {
		return svc.OpenSearch(ctx, cfg.Search, cfg.AWS)
	})
	if err != nil {
		return err
	}
	log := svc.Logger()
	viewsReader := adapters.NewViewsPostgresReader(pool, cfg.Query.ViewsName)
	onError := func(model string) func(error) {
		return func(err error) { log.Warn("read-your-writes progress not read", "model", model, "error", err) }
	}
	viewsProgress, err := progress.New(progress.Config{Read: viewsReader.AppliedSeqs, OnError: onError("views")})
	if err != nil {
		return err
	}
	searchProgress, err := progress.New(progress.Config{
		Read:     adapters.SearchProgress(searchClient, cfg.Query.SearchName),
		Interval: cfg.Query.SearchPollInterval, OnError: onError("search"),
	})
	if err != nil {
		return err
	}
	svc.Go("views-progress", viewsProgress.Run)
	svc.Go("views-notifications", func(ctx context.Context) error {
		return progress.Listen(ctx, pool, views.ProgressChannel(cfg.Query.ViewsName), viewsProgress.Notify, log)
	})
	svc.Go("search-progress", searchProgress.Run)

	waits, err := consistencyMetrics(svc.Registry())
	if err != nil {
		return err
	}
	queries, err := app.New(app.Config{
		Views: viewsReader, ViewsProgress: viewsProgress,
		Search: adapters.NewMessagesSearchReader(searchClient, cfg.Query.SearchName), SearchProgress: searchProgress,
		ConsistencyTimeout: cfg.Query.ConsistencyTimeout,
		Observe: func(model string, applied bool, took time.Duration) {
			outcome := "applied"
			if !applied {
				outcome = "stale"
			}
			waits.WithLabelValues(model, outcome).Observe(took.Seconds())
		},
	})
	if err != nil {
		return err
	}
	codec, err := cursorCodec(cfg.Query, svc)
	if err != nil {
		return err
	}
	// The verifier refreshes JWKS keys in the background until the service's construction context ends; Exec
	// keeps that context for the process's life.
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return err
	}
	limiter, err := ratelimit.New(cfg.RateLimit, time.Now)
	if err != nil {
		return err
	}
	engine := ginapp.New(log, svc.HTTPMetrics(), ginapp.WithTracerName(tracing.ScopeQueryAPI))
	tokens, err := cfg.Consistency.Key(cfg.Auth.HS256Secret)
	if err != nil {
		return err
	}
	ports.NewHTTPServer(queries, codec, tokens, openapi.Document(), log).
		Register(engine, auth.Middleware(verifier), ratelimit.Middleware(limiter, auth.AccountID))
	svc.Mount(engine)
	return nil
}

// cursorCodec signs cursors with the configured secret, or with a random key when none is set (logged: cursors
// then fail after a restart or on another instance).
func cursorCodec(cfg QueryConfig, svc *service.Service) (*cursor.Codec, error) {
	key := []byte(cfg.CursorSecret.Reveal())
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
		svc.Logger().Warn("QUERYAPI_CURSOR_SECRET is not set: cursors are signed with a random key of this process")
	}
	return cursor.New(key)
}

// consistencyMetrics registers the histogram of read-your-writes waits by read model and outcome.
func consistencyMetrics(reg prometheus.Registerer) (*prometheus.HistogramVec, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "queryapi_consistency_wait_seconds",
		Help: "How long queries with consistent_with waited for a read model, by read model and outcome (applied, stale).",
		// Up to a minute, QUERYAPI_CONSISTENCY_TIMEOUT's largest value: a wait longer than 5 s must show as
		// such, not as "over 5 s".
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60},
	}, []string{"model", "outcome"})
	// Every series exists from the start, stale waits (rare, and what an alert watches) included.
	for _, model := range []string{"views", "search"} {
		for _, outcome := range []string{"applied", "stale"} {
			h.WithLabelValues(model, outcome)
		}
	}
	if err := reg.Register(h); err != nil {
		return nil, err
	}
	return h, nil
}
