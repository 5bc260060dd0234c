// Command relay publishes the journal's events to Kafka: it reads the DynamoDB stream of the journal and
// produces each event to its aggregate type's topic. For now it serves its operational endpoints only.
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

const name = "relay"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := service.Exec(ctx, name, NewMain)
	stop()
	os.Exit(code)
}

// Main is the relay process: Run serves until ctx ends, then shuts down in order (see service.Service); Close
// releases the clients when Run is never called.
type Main struct {
	*service.Service
}

// NewMain builds the relay from cfg, logging to logOut: the DynamoDB and Kafka clients with their readiness
// checks. It connects to nothing yet; it fails when the configuration is invalid.
func NewMain(ctx context.Context, cfg Config, logOut io.Writer) (*Main, error) {
	svc, err := service.New(service.Config{Name: name, HTTP: cfg.HTTP, Log: cfg.Log, LogOutput: logOut, Settings: cfg})
	if err != nil {
		return nil, err
	}
	_, awsErr := svc.AWS(ctx, cfg.AWS)
	_, kafkaErr := svc.Kafka(cfg.Kafka)
	if err := errors.Join(awsErr, kafkaErr); err != nil {
		return nil, errors.Join(err, svc.Close())
	}
	return &Main{Service: svc}, nil
}
