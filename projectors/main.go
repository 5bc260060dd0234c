// Command projectors builds the read models: it consumes the event topics and writes the Postgres views and the
// search index. For now it serves its operational endpoints only.
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cqrses-aws/pipeline/internal/platform/service"
)

const name = "projectors"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := service.Exec(ctx, name, NewMain)
	stop()
	os.Exit(code)
}

// Main is the projectors process: Run serves until ctx ends, then shuts down in order (see service.Service);
// Close releases the clients when Run is never called.
type Main struct {
	*service.Service
}

// NewMain builds the projectors from cfg, logging to logOut: the Kafka client, the Postgres pool and the search
// client with their readiness checks. It connects to nothing yet; it fails when the configuration is invalid.
func NewMain(ctx context.Context, cfg Config, logOut io.Writer) (*Main, error) {
	svc, err := service.New(service.Config{Name: name, HTTP: cfg.HTTP, Log: cfg.Log, LogOutput: logOut, Settings: cfg})
	if err != nil {
		return nil, err
	}
	_, kafkaErr := svc.Kafka(cfg.Kafka)
	_, pgErr := svc.Postgres(ctx, cfg.Postgres)
	_, searchErr := svc.OpenSearch(ctx, cfg.Search, cfg.AWS)
	if err := errors.Join(kafkaErr, pgErr, searchErr); err != nil {
		return nil, errors.Join(err, svc.Close())
	}
	return &Main{Service: svc}, nil
}
