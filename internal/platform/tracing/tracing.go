// Package tracing sets up OpenTelemetry tracing for a service and carries trace context across the pipeline's
// asynchronous hops: a command's HTTP request, the events it appends to the journal (their traceparent), the
// relay's Kafka records (their traceparent header) and the projectors' apply spans.
//
// Tracing is off unless OTEL_TRACES_EXPORTER says otherwise. Off, no span is recorded and the instrumented code
// skips its span work (check Enabled), but a traceparent a client sent still travels with its events. The W3C
// TraceContext propagator is always installed globally.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// The instrumentation scopes (tracer names) of the pipeline's services, so that a trace shows which service
// made each span even when several run in one process (as in tests).
const (
	ScopeWriter     = "github.com/cqrses-aws/pipeline/writer"
	ScopeRelay      = "github.com/cqrses-aws/pipeline/relay"
	ScopeProjectors = "github.com/cqrses-aws/pipeline/projectors"
	ScopeQueryAPI   = "github.com/cqrses-aws/pipeline/queryapi"
)

var (
	enabled  atomic.Bool
	provider atomic.Pointer[providerBox]
)

// providerBox holds a trace.TracerProvider, an interface, for atomic.Pointer.
type providerBox struct{ tp trace.TracerProvider }

func init() { otel.SetTextMapPropagator(propagation.TraceContext{}) }

// Enabled reports whether spans are recorded in this process: whether Setup installed an exporter or a test
// called Install. Hot paths (a relay page, a projector batch) check it to skip all span work when off.
func Enabled() bool { return enabled.Load() }

// Tracer returns the named tracer (one of the Scope constants) of the installed provider, a no-op tracer when
// tracing is off.
func Tracer(scope string) trace.Tracer {
	if b := provider.Load(); b != nil {
		return b.tp.Tracer(scope)
	}
	return noop.NewTracerProvider().Tracer(scope)
}

// Install makes tp the provider of Tracer and of OpenTelemetry's global API, and turns Enabled on; the returned
// function turns it off again (tests use it with an in-memory exporter; Setup calls it in a service).
func Install(tp trace.TracerProvider) (uninstall func()) {
	provider.Store(&providerBox{tp: tp})
	otel.SetTracerProvider(tp)
	enabled.Store(true)
	return func() {
		enabled.Store(false)
		provider.Store(nil)
		otel.SetTracerProvider(noop.NewTracerProvider())
	}
}

// Setup configures tracing for the service named service from cfg: with the otlp exporter it installs a
// provider that batches spans to the OTLP/HTTP endpoint (the standard OTEL_EXPORTER_OTLP_* variables), samples
// new traces at cfg.SampleRatio and follows a caller's sampling decision; export errors are logged to log.
// With none it changes nothing. It returns the function that flushes and stops the exporter (call it last at
// shutdown), and an error when cfg is invalid or the exporter cannot be built.
func Setup(ctx context.Context, cfg Config, service string, log *slog.Logger) (shutdown func(context.Context) error, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tracing config: %w", err)
	}
	nothing := func(context.Context) error { return nil }
	if !cfg.Enabled() {
		return nothing, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	name := cfg.ServiceName
	if name == "" {
		name = service
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(name)))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: export failed", "error", err)
	}))
	uninstall := Install(tp)
	log.Info("tracing on", "exporter", cfg.Exporter, "service_name", name, "sample_ratio", cfg.SampleRatio)
	return func(ctx context.Context) error {
		uninstall()
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("flush spans: %w", err)
		}
		return nil
	}, nil
}

// ShutdownTimeout bounds how long Closer waits for the last spans to be exported.
const ShutdownTimeout = 5 * time.Second

// Closer adapts shutdown (from Setup) to a service's OnClose: it flushes the spans within ShutdownTimeout.
func Closer(shutdown func(context.Context) error) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		return shutdown(ctx)
	}
}
