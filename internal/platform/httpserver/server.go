// Package httpserver runs a service's HTTP server with a fail-fast listen and a graceful,
// bounded shutdown, and routes the operational endpoints beside the application.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// Server serves one handler on one address; Run may be called once.
type Server struct {
	cfg       config.HTTP
	log       *slog.Logger
	srv       *http.Server
	started   atomic.Bool
	addr      atomic.Pointer[string]
	listening chan struct{}
	once      sync.Once
}

// New returns a Server for handler on cfg.Addr; timeouts that are not positive get the config
// defaults (config.HTTP.WithDefaultTimeouts), a nil log discards, and it fails when Addr is empty
// or handler nil.
func New(cfg config.HTTP, handler http.Handler, log *slog.Logger) (*Server, error) {
	var errs []error
	if cfg.Addr == "" {
		errs = append(errs, errors.New("address is empty"))
	}
	if handler == nil {
		errs = append(errs, errors.New("handler is nil"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new http server: %w", err)
	}
	cfg = cfg.WithDefaultTimeouts()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, listening: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Run listens on the configured address, failing at once when it is taken, and serves until ctx
// is done; it then stops accepting, waits up to the shutdown timeout for in-flight requests, and
// returns nil, or the listen, serve or shutdown error.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("run http server: already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	addr := ln.Addr().String()
	s.addr.Store(&addr)
	s.once.Do(func() { close(s.listening) })
	s.log.Info("http server listening", "addr", addr)

	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}

	s.log.Info("http server shutting down", "addr", addr, "timeout", s.cfg.ShutdownTimeout)
	// ctx is already done; the drain gets its own deadline but keeps ctx's values.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(shutdownCtx); err != nil {
		// Requests still running past the deadline are cut off rather than left behind.
		closeErr := s.srv.Close()
		return fmt.Errorf("shut down http server on %s: %w", addr, errors.Join(err, closeErr))
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", addr, err)
	}
	s.log.Info("http server stopped", "addr", addr)
	return nil
}

// Addr returns the bound address once Listening is closed (resolving a ":0" port), and the
// configured address before.
func (s *Server) Addr() string {
	if p := s.addr.Load(); p != nil {
		return *p
	}
	return s.cfg.Addr
}

// Listening returns a channel closed once Run has bound the listener; it stays open when the
// listen fails, so wait on it together with Run's result.
func (s *Server) Listening() <-chan struct{} { return s.listening }
