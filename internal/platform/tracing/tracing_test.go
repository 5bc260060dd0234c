package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

func TestConfigDefaultsAndValidate(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom[tracing.Config]("", map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Exporter != tracing.ExporterNone || cfg.SampleRatio != 1 || cfg.Enabled() {
		t.Errorf("defaults = %+v, want exporter none, ratio 1, off", cfg)
	}
	for name, c := range map[string]struct {
		cfg  tracing.Config
		want string
	}{
		"otlp":         {tracing.Config{Exporter: "otlp", SampleRatio: 0.1}, ""},
		"zero value":   {tracing.Config{}, ""},
		"bad exporter": {tracing.Config{Exporter: "jaeger", SampleRatio: 1}, "OTEL_TRACES_EXPORTER"},
		"ratio above":  {tracing.Config{Exporter: "none", SampleRatio: 1.5}, "OTEL_TRACES_SAMPLER_ARG"},
		"ratio below":  {tracing.Config{Exporter: "none", SampleRatio: -0.1}, "OTEL_TRACES_SAMPLER_ARG"},
	} {
		err := c.cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: Validate() = %v, want an error naming %s", name, err, c.want)
		}
	}
}

// TestSetupAndInstall changes the process-wide provider, so its steps run in order and no other test of the
// package depends on it.
func TestSetupAndInstall(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	shutdown, err := tracing.Setup(ctx, tracing.Config{Exporter: tracing.ExporterNone, SampleRatio: 1}, "svc", log)
	if err != nil {
		t.Fatalf("Setup(none) = %v", err)
	}
	if tracing.Enabled() {
		t.Error("tracing on after Setup(none)")
	}
	_, span := tracing.Tracer(tracing.ScopeWriter).Start(ctx, "off")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("a span off records or has a context of its own")
	}
	span.End()
	if err := tracing.Closer(shutdown)(); err != nil {
		t.Errorf("shutdown(none) = %v", err)
	}
	if _, err := tracing.Setup(ctx, tracing.Config{Exporter: "zipkin"}, "svc", log); err == nil {
		t.Error("Setup(zipkin) succeeded, want a config error")
	}

	// otlp builds a provider without connecting; nothing is exported, so the shutdown has nothing to send.
	shutdown, err = tracing.Setup(ctx, tracing.Config{Exporter: tracing.ExporterOTLP, SampleRatio: 1}, "svc", log)
	if err != nil {
		t.Fatalf("Setup(otlp) = %v", err)
	}
	if !tracing.Enabled() {
		t.Error("tracing off after Setup(otlp)")
	}
	if err := tracing.Closer(shutdown)(); err != nil {
		t.Errorf("shutdown(otlp) = %v", err)
	}
	if tracing.Enabled() {
		t.Error("tracing still on after shutdown")
	}

	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	uninstall := tracing.Install(tp)
	_, span = tracing.Tracer(tracing.ScopeRelay).Start(ctx, "on")
	span.End()
	_, span = otel.Tracer("global").Start(ctx, "global")
	span.End()
	uninstall()
	spans := exporter.GetSpans()
	if len(spans) != 2 || spans[0].InstrumentationScope.Name != tracing.ScopeRelay || spans[1].Name != "global" {
		t.Errorf("recorded %d spans (%v), want the tracing and the global API's", len(spans), spans)
	}
	if tracing.Enabled() {
		t.Error("tracing on after uninstall")
	}
}
