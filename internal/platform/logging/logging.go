// Package logging builds the service's structured logger from config.Log.
package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// New returns a logger writing cfg.Format (json or text) records at cfg.Level or above to w,
// each carrying a "service" attribute; it fails on a nil writer or an unknown format.
func New(w io.Writer, cfg config.Log, service string) (*slog.Logger, error) {
	if w == nil {
		return nil, errors.New("new logger: nil writer")
	}
	opts := &slog.HandlerOptions{Level: cfg.Level, ReplaceAttr: readableDuration}
	var h slog.Handler
	switch cfg.Format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("new logger: unknown format %q (want json or text)", cfg.Format)
	}
	return slog.New(h).With("service", service), nil
}

// readableDuration writes durations as "1.5s" rather than the JSON handler's nanosecond integers.
func readableDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}
