// Package service is the lifecycle every deployable shares: it builds the logger and the metrics registry,
// collects the readiness checks and the clients of the service's dependencies, serves /healthz, /readyz and
// /metrics beside the application's handler, and shuts down in order when its context ends: stop intake (the
// HTTP server and the background workers), then close the clients in the reverse order of their registration.
//
// A service's Main embeds *Service, registers its dependencies (AWS, Kafka, Postgres, OpenSearch) and workers,
// mounts its application handler, and calls Run.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/health"
	"github.com/cqrses-aws/pipeline/internal/platform/httpserver"
	"github.com/cqrses-aws/pipeline/internal/platform/logging"
	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

// Config describes one service process.
type Config struct {
	// Name identifies the service in logs, metrics and Kafka client ids, e.g. "writer".
	Name string
	HTTP config.HTTP
	Log  config.Log
	// LogOutput receives the log records; nil means standard output.
	LogOutput io.Writer
	// ReadyTimeout bounds each readiness probe; zero means the health package's default (2s).
	ReadyTimeout time.Duration
	// Settings is the service's whole configuration, logged once when Run starts; its secrets must be
	// config.Secret values, which log as "***".
	Settings any
}

// Validate returns every problem joined: a name, and valid HTTP and log blocks.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("service name is required"))
	}
	errs = append(errs, c.HTTP.Validate(), c.Log.Validate())
	if c.ReadyTimeout < 0 {
		errs = append(errs, errors.New("ready timeout must not be negative"))
	}
	return errors.Join(errs...)
}

// Service runs one process's HTTP server and workers and owns its dependencies' clients. Register checks,
// closers and workers and mount the handler before Run; Run may be called once, and none of the methods may be
// called concurrently with each other except Addr and Listening.
type Service struct {
	cfg     Config
	log     *slog.Logger
	reg     *prometheus.Registry
	http    *metrics.HTTPMetrics
	app     http.Handler
	checks  []health.Check
	closers []closer
	workers []worker

	started   atomic.Bool
	addr      atomic.Pointer[string]
	listening chan struct{}
	closeOnce sync.Once
	closeErr  error
}

type closer struct {
	name  string
	close func() error
}

type worker struct {
	name string
	run  func(context.Context) error
}

// New validates cfg and builds the service's logger and metrics registry (with app_build_info and the HTTP
// request metrics); the server is built when Run starts. It returns the validation or setup error.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("service config: %w", err)
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = os.Stdout
	}
	log, err := logging.New(cfg.LogOutput, cfg.Log, cfg.Name)
	if err != nil {
		return nil, err
	}
	reg := metrics.NewRegistry(cfg.Name)
	hm, err := metrics.NewHTTPMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, log: log, reg: reg, http: hm, listening: make(chan struct{})}, nil
}

// Logger returns the service's logger; every record carries the service name.
func (s *Service) Logger() *slog.Logger { return s.log }

// Registry returns the service's own Prometheus registry, served on /metrics.
func (s *Service) Registry() *prometheus.Registry { return s.reg }

// HTTPMetrics returns the request metrics an application handler records into (see ginapp).
func (s *Service) HTTPMetrics() *metrics.HTTPMetrics { return s.http }

// AddCheck adds a readiness probe reported under name on /readyz; names should be unique.
func (s *Service) AddCheck(name string, probe func(context.Context) error) {
	s.checks = append(s.checks, health.Check{Name: name, Probe: probe})
}

// OnClose registers fn to release a client when the service closes; closers run in the reverse order of their
// registration, after the server and the workers stopped, and their errors are joined into Close's result.
func (s *Service) OnClose(name string, fn func() error) {
	s.closers = append(s.closers, closer{name: name, close: fn})
}

// Go registers a background worker that Run starts beside the HTTP server. The worker must return when its
// context ends (its result is then ignored); a worker that fails earlier stops the whole service, and Run
// returns its error. A worker that returns nil early just ends.
func (s *Service) Go(name string, run func(context.Context) error) {
	s.workers = append(s.workers, worker{name: name, run: run})
}

// Mount sets the application handler served beside the operational endpoints. The handler records its own
// request metrics (ginapp's engine does); without one every other path answers a 404 problem.
func (s *Service) Mount(app http.Handler) { s.app = app }

// Addr returns the bound HTTP address once Listening is closed, and the configured one before.
func (s *Service) Addr() string {
	if p := s.addr.Load(); p != nil {
		return *p
	}
	return s.cfg.HTTP.Addr
}

// Listening returns a channel closed once the HTTP server accepts connections; it stays open when Run fails
// first, so wait on it together with Run's result.
func (s *Service) Listening() <-chan struct{} { return s.listening }

// Run logs the configuration, serves HTTP and runs the workers until ctx ends or one of them fails, then stops
// intake (the server drains in-flight requests within its shutdown timeout, the workers return) and closes the
// registered clients in reverse order. It returns nil after a clean shutdown asked for by ctx; otherwise the
// first failure (a listen error, a failed worker) and any close errors, joined.
func (s *Service) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("run service: already started")
	}
	s.log.Info("service starting", "addr", s.cfg.HTTP.Addr, "config", s.cfg.Settings)

	srv, err := httpserver.New(s.cfg.HTTP, s.handler(), s.log)
	if err == nil {
		err = s.serve(ctx, srv)
	}
	// Errors name what failed (listen on …, worker …, close …); the logger and the caller add the service.
	if err = errors.Join(err, s.Close()); err != nil {
		s.log.Error("service stopped with an error", "error", err)
		return err
	}
	s.log.Info("service stopped")
	return nil
}

// serve runs the server and the workers under one context, cancelled by ctx or by the first failure, and waits
// for all of them; it returns the first failure.
func (s *Service) serve(parent context.Context, srv *httpserver.Server) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()

	var (
		wg       sync.WaitGroup
		failOnce sync.Once
		firstErr error
	)
	fail := func(err error) {
		failOnce.Do(func() { firstErr = err })
		cancel()
	}
	wg.Go(func() {
		err := srv.Run(ctx)
		// A shutdown asked for before the listener was bound cancels the listen; that is no failure.
		if err != nil && !(parent.Err() != nil && errors.Is(err, context.Canceled)) {
			fail(err)
		}
	})
	wg.Go(func() {
		select {
		case <-srv.Listening():
			addr := srv.Addr()
			s.addr.Store(&addr)
			close(s.listening)
		case <-ctx.Done():
		}
	})
	for _, w := range s.workers {
		wg.Go(func() {
			err := w.run(ctx)
			// After cancellation a worker's error is how it noticed; it is not a failure.
			if err != nil && ctx.Err() == nil {
				fail(fmt.Errorf("worker %s: %w", w.name, err))
			}
		})
	}
	wg.Wait()
	return firstErr
}

// handler routes the operational endpoints, each counted in the request metrics under its own path, beside
// the application handler.
func (s *Service) handler() http.Handler {
	counted := func(route string, h http.Handler) http.Handler {
		return s.http.Middleware(func(*http.Request) string { return route }, h)
	}
	app := s.app
	if app == nil {
		app = s.http.Middleware(nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			problem.Write(w, problem.New(http.StatusNotFound, "no such route"))
		}))
	}
	ready := health.NewChecker(s.cfg.ReadyTimeout, s.checks...).ReadyHandler()
	return httpserver.Mux(
		counted("/healthz", health.LiveHandler()),
		counted("/readyz", ready),
		counted("/metrics", metrics.Handler(s.reg)),
		app,
	)
}

// Close closes the registered clients in the reverse order of their registration and returns their errors
// joined; Run calls it on its way out, and later calls return the first result without closing again.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for i := len(s.closers) - 1; i >= 0; i-- {
			c := s.closers[i]
			if err := c.close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", c.name, err))
				continue
			}
			s.log.Debug("closed", "client", c.name)
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
