// Command projectors builds the read models: it consumes the event topics and writes the Postgres views and the
// search index, each projection in its own consumer group and versioned target (see package supervisor).
//
//	projectors [run] [--only NAME]...   keep every (or the named) projection applied until SIGTERM
//	projectors status                   per projection: live version, per-partition offsets and lag, DLQ size
//	projectors rebuild NAME             build the next version from offset zero, switch, drop the old one
//	projectors dlq list NAME            print the dead-lettered events
//	projectors dlq redrive NAME         apply the dead-lettered events with the code now running
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cqrses-aws/pipeline/internal/platform/service"
	"github.com/cqrses-aws/pipeline/projectors/projection"
)

const name = "projectors"

const usage = `usage:
  projectors [run] [--only NAME]...
  projectors status
  projectors rebuild NAME
  projectors dlq list|redrive NAME`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches the command line to its command and returns the exit code.
func run(ctx context.Context, args []string) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return service.Exec(ctx, name, newRunMain(args))
	case "status", "rebuild", "dlq":
		return service.Exec(ctx, name, newToolMain(cmd, args))
	default:
		fmt.Fprintf(os.Stderr, "projectors: unknown command %q\n%s\n", cmd, usage)
		return 2
	}
}

// Main is the `projectors run` process: Run serves the operational endpoints and keeps the projections applied
// until ctx ends, then shuts down in order (see service.Service); Close releases the clients when Run is never
// called.
type Main struct {
	*service.Service
	// Projections are the projections this process runs.
	Projections []projection.Projection
}

// onlyFlag collects repeated --only values.
type onlyFlag []string

func (o *onlyFlag) String() string     { return strings.Join(*o, ",") }
func (o *onlyFlag) Set(v string) error { *o = append(*o, v); return nil }

// newRunMain parses the run command's flags and returns its constructor.
func newRunMain(args []string) func(context.Context, Config, io.Writer) (*Main, error) {
	return func(ctx context.Context, cfg Config, out io.Writer) (*Main, error) {
		fs := flag.NewFlagSet("projectors run", flag.ContinueOnError)
		var only onlyFlag
		fs.Var(&only, "only", "run only this projection (repeatable; default: all)")
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() > 0 {
			return nil, fmt.Errorf("run: unexpected arguments %v", fs.Args())
		}
		return NewMainOnly(ctx, cfg, out, only)
	}
}

// NewMain builds the projectors process from cfg, logging to logOut, running every projection.
func NewMain(ctx context.Context, cfg Config, logOut io.Writer) (*Main, error) {
	return NewMainOnly(ctx, cfg, logOut, nil)
}

// NewMainOnly builds the projectors process from cfg, logging to logOut, running the projections named in only
// (all when empty): the Kafka, Postgres, search and journal clients with their readiness checks, and one
// supervisor worker per projection. It connects to nothing yet; it fails when the configuration is invalid or
// only names an unknown projection.
func NewMainOnly(ctx context.Context, cfg Config, logOut io.Writer, only []string) (*Main, error) {
	svc, err := service.New(service.Config{Name: name, HTTP: cfg.HTTP, Log: cfg.Log, LogOutput: logOut, Settings: cfg})
	if err != nil {
		return nil, err
	}
	m, err := buildMain(ctx, svc, cfg, only)
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, closeErr(svc.Close()))
	}
	return m, nil
}

func buildMain(ctx context.Context, svc *service.Service, cfg Config, only []string) (*Main, error) {
	if err := svc.Tracing(ctx, cfg.Tracing); err != nil {
		return nil, err
	}
	if _, err := svc.Kafka(cfg.Kafka); err != nil {
		return nil, err
	}
	d, err := openDeps(ctx, cfg, svc)
	if err != nil {
		return nil, err
	}
	chosen, err := choose(d.projections, only)
	if err != nil {
		return nil, err
	}
	sup, err := d.supervisor(cfg, svc.Logger(), svc.Registry())
	if err != nil {
		return nil, err
	}
	svc.OnClose("supervisor", func() error { sup.Close(); return nil })
	for _, p := range chosen {
		svc.Go(p.Name(), func(ctx context.Context) error { return sup.Run(ctx, p) })
	}
	return &Main{Service: svc, Projections: chosen}, nil
}

// choose returns the projections named in only, in their order, or all when only is empty.
func choose(all []projection.Projection, only []string) ([]projection.Projection, error) {
	if len(only) == 0 {
		return all, nil
	}
	var out []projection.Projection
	for _, n := range only {
		p, err := find(all, n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// find returns the projection called name.
func find(all []projection.Projection, name string) (projection.Projection, error) {
	var names []string
	for _, p := range all {
		if p.Name() == name {
			return p, nil
		}
		names = append(names, p.Name())
	}
	return nil, fmt.Errorf("unknown projection %q (known: %s)", name, strings.Join(names, ", "))
}

func closeErr(err error) string {
	if err == nil {
		return ""
	}
	return "; close: " + err.Error()
}
