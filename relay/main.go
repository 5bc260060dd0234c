// Command relay publishes the journal's events to Kafka: it reads the DynamoDB stream of the journal and
// produces each event to its aggregate type's topic, sharing the stream's shards with the other instances
// through leases (see package forward).
//
//	relay                          relay the stream until SIGTERM
//	relay reseed [-aggregate ID]   publish one aggregate's, or every, event from the journal table itself
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/relay/forward"
	"github.com/cqrses-aws/pipeline/relay/lease"
	"github.com/cqrses-aws/pipeline/relay/stream"
)

const name = "relay"

// CheckLeases is the readiness check that the lease table exists and answers.
const CheckLeases = "leases"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	if len(os.Args) > 1 && os.Args[1] == "reseed" {
		code = service.Exec(ctx, name, newReseed(os.Args[2:]))
	} else {
		code = service.Exec(ctx, name, NewMain)
	}
	stop()
	os.Exit(code)
}

// Main is the relay process: Run serves until ctx ends, then shuts down in order (see service.Service); Close
// releases the clients when Run is never called.
type Main struct {
	*service.Service
	// Relay is the stream reader; tests look at the shards it owns.
	Relay *forward.Relay
}

// NewMain builds the relay from cfg, logging to logOut: the DynamoDB, Streams and Kafka clients with their
// readiness checks, and a worker that creates the topics (and, when configured, the lease table) and then
// relays the stream. It connects to nothing yet; it fails when the configuration is invalid.
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
	producer, err := svc.Kafka(cfg.Kafka, forward.ProducerOpts()...)
	if err != nil {
		return nil, err
	}
	metrics, err := forward.NewMetrics(svc.Registry())
	if err != nil {
		return nil, err
	}
	leases := lease.NewTable(clients.DynamoDB, cfg.Relay.LeaseTable, nil)
	svc.AddCheck(CheckLeases, func(ctx context.Context) error {
		_, err := leases.List(ctx, "readiness-probe")
		return err
	})
	relay, err := forward.New(forward.Config{
		Table: eventstore.TablesWithPrefix(cfg.Relay.TablePrefix).Journal, TopicPrefix: cfg.Kafka.TopicPrefix,
		Owner: cfg.Relay.Owner, LeaseTTL: cfg.Relay.LeaseTTL, ScanEvery: cfg.Relay.ScanEvery, IdleWait: cfg.Relay.IdleWait,
		BusyWait: cfg.Relay.BusyWait,
	}, stream.NewDynamoDB(clients.DynamoDB, clients.Streams), leases, forward.KafkaPublisher{Client: producer},
		metrics, svc.Logger())
	if err != nil {
		return nil, err
	}
	svc.Go("relay", func(ctx context.Context) error {
		if err := prepare(ctx, svc, cfg, leases, producer); err != nil {
			return err
		}
		return relay.Run(ctx)
	})
	return &Main{Service: svc, Relay: relay}, nil
}

// prepare creates the event topics and, when configured, the lease table, retrying while the servers are
// unreachable; it returns nil once they exist, or when ctx ends.
func prepare(ctx context.Context, svc *service.Service, cfg Config, leases *lease.Table, cl *kgo.Client) error {
	adm := kadm.NewClient(cl)
	topics := kafka.EventTopics(cfg.Kafka.TopicPrefix, cfg.Relay.Partitions)
	retrying(ctx, svc, "event topics", func(ctx context.Context) error { return kafka.EnsureTopics(ctx, adm, topics...) })
	if cfg.Relay.CreateTables {
		retrying(ctx, svc, "lease table", leases.Create)
	}
	return nil
}

// retrying calls do until it succeeds or ctx ends, backing off and logging in between.
func retrying(ctx context.Context, svc *service.Service, what string, do func(context.Context) error) {
	for delay := 200 * time.Millisecond; ctx.Err() == nil; delay = min(2*delay, 5*time.Second) {
		err := do(ctx)
		if err == nil {
			svc.Logger().Info(what + " ready")
			return
		}
		svc.Logger().Warn(what+" not ready yet; retrying", "error", err, "retry_in", delay)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
}
