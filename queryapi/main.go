// Command queryapi is the query side: it answers reads from the Postgres and search read models, never from
// the journal. For now it serves its operational endpoints and an API without routes.
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"
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
// readiness checks, and the Gin API. It connects to nothing yet; it fails when the configuration is invalid.
func NewMain(ctx context.Context, cfg Config, logOut io.Writer) (*Main, error) {
	svc, err := service.New(service.Config{Name: name, HTTP: cfg.HTTP, Log: cfg.Log, LogOutput: logOut, Settings: cfg})
	if err != nil {
		return nil, err
	}
	_, pgErr := svc.Postgres(ctx, cfg.Postgres)
	_, searchErr := svc.OpenSearch(ctx, cfg.Search, cfg.AWS)
	if err := errors.Join(pgErr, searchErr); err != nil {
		return nil, errors.Join(err, svc.Close())
	}
	svc.Mount(ginapp.New(svc.Logger(), svc.HTTPMetrics()))
	return &Main{Service: svc}, nil
}
