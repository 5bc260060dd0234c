package service

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// Exec is the body of a service's main once signals are wired into ctx: it loads C from the unprefixed
// environment, builds the service's Main with newMain (logging to standard output), and runs it until ctx ends.
// It returns the process exit code: 0 after a clean shutdown, 1 after any failure, which it prints to standard
// error prefixed with name (a failure of Run is in the log as well).
func Exec[C any, M interface{ Run(context.Context) error }](
	ctx context.Context, name string, newMain func(context.Context, C, io.Writer) (M, error),
) int {
	if err := execute(ctx, newMain); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func execute[C any, M interface{ Run(context.Context) error }](
	ctx context.Context, newMain func(context.Context, C, io.Writer) (M, error),
) error {
	cfg, err := config.Load[C]("")
	if err != nil {
		return err
	}
	m, err := newMain(ctx, cfg, os.Stdout)
	if err != nil {
		return err
	}
	return m.Run(ctx)
}
