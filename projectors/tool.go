package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/logging"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
	"github.com/cqrses-aws/pipeline/projectors/supervisor"
)

// toolMain is one of the admin commands (status, rebuild, dlq): it does its work, prints the answer to out
// and its logs to standard error, and exits.
type toolMain struct {
	cmd  string
	args []string
	cfg  Config
	out  io.Writer
}

// newToolMain checks the command's arguments and returns its constructor.
func newToolMain(cmd string, args []string) func(context.Context, Config, io.Writer) (*toolMain, error) {
	return func(_ context.Context, cfg Config, out io.Writer) (*toolMain, error) {
		want := map[string]int{"status": 0, "rebuild": 1, "dlq": 2}[cmd]
		if len(args) != want || (cmd == "dlq" && args[0] != "list" && args[0] != "redrive") {
			return nil, fmt.Errorf("%s: wrong arguments %v\n%s", cmd, args, usage)
		}
		return &toolMain{cmd: cmd, args: args, cfg: cfg, out: out}, nil
	}
}

// Run does the command and returns its failure.
func (t *toolMain) Run(ctx context.Context) error {
	log, err := logging.New(os.Stderr, t.cfg.Log, name)
	if err != nil {
		return err
	}
	d, err := openDeps(ctx, t.cfg, nil)
	if err != nil {
		return err
	}
	defer d.close()
	sup, err := d.supervisor(t.cfg, log, nil)
	if err != nil {
		return err
	}
	defer sup.Close()
	switch t.cmd {
	case "status":
		return t.status(ctx, sup, d)
	case "rebuild":
		p, err := find(d.projections, t.args[0])
		if err != nil {
			return err
		}
		v, err := sup.Rebuild(ctx, p)
		if v > 0 {
			fmt.Fprintf(t.out, "%s: version %d is live\n", p.Name(), v)
		}
		return err
	default:
		p, err := find(d.projections, t.args[1])
		if err != nil {
			return err
		}
		if t.args[0] == "list" {
			return listDeadLetters(ctx, t.out, sup, p)
		}
		rep, err := sup.Redrive(ctx, p)
		fmt.Fprintf(t.out, "%s: applied %d, already applied %d, still failing %d, aggregates unparked %d",
			p.Name(), rep.Applied, rep.Skipped, rep.Failed, rep.Unparked)
		if rep.StillParked > 0 {
			fmt.Fprintf(t.out, ", left parked (dead letters kept arriving; run again) %d", rep.StillParked)
		}
		fmt.Fprintln(t.out)
		return err
	}
}

// status prints every projection's live version and dead-letter count, then its versions' positions on every
// partition.
func (t *toolMain) status(ctx context.Context, sup *supervisor.Supervisor, d *deps) error {
	var errs []error
	for _, p := range d.projections {
		st, err := sup.Status(ctx, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		live := "none"
		if st.Live > 0 {
			live = fmt.Sprintf("v%d", st.Live)
		}
		fmt.Fprintf(t.out, "%s: live %s, dlq %d\n", st.Name, live, st.DLQ)
		w := tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "  VERSION\tPARTITION\tCOMMITTED\tEND\tLAG")
		for _, v := range st.Versions {
			var total int64
			for _, l := range v.Lags {
				total += l.Lag()
				fmt.Fprintf(w, "  v%d\t%s/%d\t%d\t%d\t%d\n", v.Version, l.Topic, l.Partition, l.Committed, l.End, l.Lag())
			}
			fmt.Fprintf(w, "  v%d\ttotal\t\t\t%d\n", v.Version, total)
		}
		errs = append(errs, w.Flush())
	}
	return errors.Join(errs...)
}

// listDeadLetters prints one line per dead-lettered record (where it came from, its aggregate and why) as it
// streams the topic, then the count.
func listDeadLetters(ctx context.Context, out io.Writer, sup *supervisor.Supervisor, p projection.Projection) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DLQ OFFSET\tFROM\tAGGREGATE\tREASON\tERROR")
	n := 0
	err := sup.EachDeadLetters(ctx, p, func(records []*kgo.Record) error {
		for _, r := range records {
			from := fmt.Sprintf("%s/%s@%s", hdr(r, runner.HeaderDLQTopic), hdr(r, runner.HeaderDLQPartition), hdr(r, runner.HeaderDLQOffset))
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", r.Offset, from, r.Key, hdr(r, runner.HeaderDLQReason),
				strings.ReplaceAll(hdr(r, runner.HeaderDLQError), "\n", " "))
		}
		n += len(records)
		return w.Flush()
	})
	if err != nil {
		return err
	}
	_ = w.Flush()
	fmt.Fprintf(out, "%d dead-lettered events\n", n)
	return nil
}

func hdr(r *kgo.Record, key string) string {
	v, _ := kafka.Header(r, key)
	return v
}
